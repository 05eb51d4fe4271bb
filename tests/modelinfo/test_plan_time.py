"""Site reads model headers it serves itself at plan time: real sizes for the cache, facts for policies."""

from __future__ import annotations

from llmkube_iac.modelinfo.plan_time import gather_facts, plan_time_uri
from llmkube_iac.plan.stack import plan_stack, stack_models
from llmkube_iac.spec import ModelSpec, SiteSpec, load_stack_config
from tests.components.test_components import mocks, run  # noqa: F401 (fixture)
from tests.conftest import minimal_stack
from tests.support.file_server import FileServer
from tests.support.synth import SynthShape, write_model


def test_only_sources_the_site_serves_are_read(monkeypatch):
    site = SiteSpec(name="s", jurisdiction="DE", modelStores=("store.local",), hfEndpoint="https://hf.site.local")
    hub = ModelSpec(source="hf://org/repo/x.gguf")
    assert plan_time_uri(site, hub) == "https://hf.site.local/org/repo/resolve/main/x.gguf"
    assert plan_time_uri(site.model_copy(update={"hf_endpoint": None}), hub) is None  # never the public Hub
    assert plan_time_uri(site, ModelSpec(source="https://store.local/a.gguf")) == "https://store.local/a.gguf"
    assert plan_time_uri(site, ModelSpec(source="https://elsewhere.example/a.gguf")) is None
    assert plan_time_uri(site, ModelSpec(source="s3://bucket/a.gguf")) is None
    monkeypatch.setenv("LLMKUBE_PLAN_TIME_FACTS", "off")
    assert plan_time_uri(site, ModelSpec(source="https://store.local/a.gguf")) is None


def test_cache_is_sized_from_the_served_header(tmp_path, mocks):  # noqa: F811
    write_model(
        tmp_path / "tiny.gguf",
        SynthShape(kind="llama", n_layer=2, n_embd=64, n_head=4, n_head_kv=2, n_ff=128, n_vocab=256),
    )
    with FileServer(tmp_path) as server:
        raw = minimal_stack()
        raw["site"]["modelStores"] = ["127.0.0.1"]
        raw["models"][0].update(source=server.url("tiny.gguf"), sizeGiB=None, totalParametersB=None)
        config = load_stack_config(raw)
        facts = gather_facts(config.site, stack_models(config))
        assert facts["tiny"].total_bytes > 0 and facts["tiny"].architecture == "llama"
        assert server.requests <= 3

        from llmkube_iac import Site

        run(lambda: (Site("test", raw).namespace,))
    model = next(a for a in mocks.created if a.typ == "llmkube:index:Model")
    assert model.inputs["facts"]["architecture"] == "llama"
    pvc = next(a for a in mocks.created if a.typ == "kubernetes:core/v1:PersistentVolumeClaim")
    # real size + 20% + 1 GiB, not the 100Gi guess
    assert pvc.inputs["spec"]["resources"]["requests"]["storage"] == "2Gi"
    unknown = plan_stack(config)  # without facts the size is unknown: the conservative default
    assert unknown.models["tiny"][1][0]["spec"]["resources"]["requests"]["storage"] == "100Gi"


def _pinned_site(hub_url: str, tmp_path, **model):
    raw = minimal_stack()
    raw["site"]["hfEndpoint"] = hub_url
    raw["models"][0].update(sizeGiB=None, totalParametersB=None, **model)
    return raw


def test_site_pins_hf_sources_into_the_job_the_cache_key_and_the_facts(tmp_path, mocks):  # noqa: F811
    """No revision (main) -> the mirror's commit: in the Model's record, the download Job's source, the
    cache key the pods mount, and the header read (at that commit); a new commit is a new cache entry."""
    from llmkube_iac import Site
    from tests.support.fake_hub import FakeHub

    gguf = tmp_path / "tiny.gguf"
    write_model(gguf, SynthShape(kind="llama", n_layer=2, n_embd=64, n_head=4, n_head_kv=2, n_ff=128, n_vocab=256))
    c1, c2 = "c1" * 20, "c2" * 20
    with FakeHub() as hub:
        hub.push("org/tiny-GGUF", c1, {"tiny-Q4_K_M.gguf": gguf.read_bytes()})
        run(lambda: (Site("test", _pinned_site(hub.url, tmp_path)).namespace,))
        first = list(mocks.created)
        hub.push("org/tiny-GGUF", c2, {"tiny-Q4_K_M.gguf": gguf.read_bytes()})
        mocks.created.clear()
        run(lambda: (Site("test", _pinned_site(hub.url, tmp_path)).namespace,))
        second = list(mocks.created)
        assert any(f"/resolve/{c1}/tiny-Q4_K_M.gguf" in p for p in hub.requests)  # facts read at the commit

    def pick(created, typ):
        return next(a for a in created if a.typ == typ).inputs

    model = pick(first, "llmkube:index:Model")
    pinned = f"hf://org/tiny-GGUF@{c1}/tiny-Q4_K_M.gguf"
    assert model["revision"]["commit"] == c1 and model["revision"]["requested"] == "main"
    assert model["revision"]["source"] == "hf://org/tiny-GGUF/tiny-Q4_K_M.gguf" and model["spec"]["source"] == pinned
    assert model["facts"]["architecture"] == "llama"
    job = pick(first, "kubernetes:batch/v1:Job")
    args = job["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[:2] == ["fetch", pinned]
    key = args[3].rsplit("/", 1)[1]
    deploy = pick(first, "kubernetes:apps/v1:Deployment")
    assert key in str(deploy["spec"]["template"]["spec"])  # the pods mount the entry the Job fills
    assert pick(first, "llmkube:index:InferenceService")["spec"]["model"]["source"] == pinned
    job2 = pick(second, "kubernetes:batch/v1:Job")
    args2 = job2["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args2[1] == pinned.replace(c1, c2) and args2[3] != args[3]
    assert job2["metadata"]["name"] != job["metadata"]["name"]


def test_site_without_a_reachable_mirror_plans_unpinned_and_records_why(mocks):  # noqa: F811
    from llmkube_iac import Site
    from tests.support.loopback import free_port

    raw = minimal_stack()
    raw["site"]["hfEndpoint"] = f"http://127.0.0.1:{free_port()}"  # nothing listens
    run(lambda: (Site("test", raw).namespace,))
    model = next(a for a in mocks.created if a.typ == "llmkube:index:Model").inputs
    assert "commit" not in model["revision"] and "lookup failed" in model["revision"]["unpinned_reason"]
    assert model["spec"]["source"] == "hf://org/tiny-GGUF/tiny-Q4_K_M.gguf"


def test_the_download_job_fetches_exactly_the_pinned_commit(tmp_path, monkeypatch):
    """The fetcher given the pinned source gets that commit's bytes, though main moved on."""
    from llmkube_iac.fetch import fetch
    from tests.support.fake_hub import FakeHub

    c1, c2 = "d1" * 20, "d2" * 20
    with FakeHub() as hub:
        hub.push("org/r", c1, {"m.gguf": b"old weights"})
        hub.push("org/r", c2, {"m.gguf": b"new weights!"})
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        path = fetch(f"hf://org/r@{c1}/m.gguf", tmp_path / "cache")
    assert path.read_bytes() == b"old weights"
    assert any(p.startswith(f"/org/r/resolve/{c1}/m.gguf") for p in hub.requests)
