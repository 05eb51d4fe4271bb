"""Site reads model headers it serves itself at plan time: real sizes for the cache, facts for policies."""
from __future__ import annotations

from tests.support.file_server import FileServer
from llmkube_iac.modelinfo.plan_time import gather_facts, plan_time_uri
from tests.support.synth import SynthShape, write_model
from llmkube_iac.plan.stack import plan_stack, stack_models
from llmkube_iac.spec import ModelSpec, SiteSpec, load_stack_config
from tests.conftest import minimal_stack
from tests.components.test_components import mocks, run  # noqa: F401 (fixture)


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
    write_model(tmp_path / "tiny.gguf", SynthShape(kind="llama", n_layer=2, n_embd=64, n_head=4, n_head_kv=2,
                                                   n_ff=128, n_vocab=256))
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
    assert pvc.inputs["spec"]["resources"]["requests"]["storage"] == "2Gi"  # real size + 20% + 1 GiB, not the 100Gi guess
    unknown = plan_stack(config)  # without facts the size is unknown: the conservative default
    assert unknown.models["tiny"][1][0]["spec"]["resources"]["requests"]["storage"] == "100Gi"
