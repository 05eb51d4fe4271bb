"""Spec validation: defaults, camelCase, and errors that name the field path."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmkube_iac.modelinfo.sources import parse_source
from llmkube_iac.spec import InferenceServiceSpec, ModelSpec, SpecError, load_stack_config
from tests.conftest import minimal_stack


def problems(raw: dict) -> list[tuple[str, str]]:
    with pytest.raises(SpecError) as info:
        load_stack_config(raw)
    return info.value.problems


def test_defaults_are_production_safe():
    cfg = load_stack_config(minimal_stack())
    svc = cfg.services[0]
    assert svc.classification == "restricted"
    assert svc.runtime == "llamacpp" and svc.accelerator.vendor == "cpu"
    assert cfg.model_for(svc).name == "tiny"


@pytest.mark.parametrize(
    "mutate, path, words",
    [
        (lambda c: c["services"][0].update(accelerator={"vendor": "tpu"}), "services[0].accelerator.vendor", "nvidia"),
        (
            lambda c: c["services"][0].update(runtime="llamacpp", accelerator={"vendor": "intel-gaudi"}),
            "services[0].accelerator",
            "valid runtimes for intel-gaudi: vllm, tgi",
        ),
        (lambda c: c["services"][0].update(replicas=-1), "services[0].replicas", "greater than or equal to 0"),
        (lambda c: c["models"][0].update(source="hf:/org/x.gguf"), "models[0].source", "expected one of"),
        (lambda c: c["models"][0].update(source="ftp://host/x.gguf"), "models[0].source", "unsupported source scheme"),
        (lambda c: c["services"][0].update(model="missing"), "services[0].model", "unknown model 'missing'"),
        (lambda c: c["services"][0].update(contextSise=4), "services[0].contextSise", "unknown field"),
        (lambda c: c["site"].update(jurisdiction="Germany"), "site.jurisdiction", "ISO 3166"),
        (lambda c: c["services"][0].update(runtime="vllm"), "services[0].accelerator", "opt-in"),
        (lambda c: c["services"][0].update(kvCacheTypeK="q9_9"), "services[0].kvCacheTypeK", "valid: f32"),
        (
            lambda c: c["services"][0].update(autoscaling={"minReplicas": 3, "maxReplicas": 2}),
            "services[0].autoscaling",
            "exceeds maxReplicas",
        ),
        (lambda c: c["models"][0].update(sha256="abc"), "models[0].sha256", "64 hexadecimal"),
        (lambda c: c["services"].append({"name": "chat", "model": "tiny"}), "services", "duplicate service name"),
        (lambda c: c["site"].update(airGapped=True), "site", "registryMirrors"),
        (
            lambda c: c["services"][0].update(
                accelerator={"vendor": "nvidia", "count": 2}, sharding={"mode": "tensor"}
            ),
            "services[0]",
            "llamacpp shards by layer or row, not tensor; set sharding.mode accordingly or use runtime vllm",
        ),
        (
            lambda c: c["services"][0].update(
                runtime="vllm", accelerator={"vendor": "nvidia"}, moeCpuOffload={"layers": 4}
            ),
            "services[0]",
            "moeCpuOffload keeps experts in host RAM with llamacpp only",
        ),
    ],
)
def test_invalid_input_names_the_field(mutate, path, words):
    raw = minimal_stack()
    mutate(raw)
    found = problems(raw)
    assert any(p == path and words in m for p, m in found), found


def test_inline_model_errors_are_under_the_service():
    raw = minimal_stack(services=[{"name": "x", "model": {"source": "nope"}}])
    assert problems(raw)[0][0] == "services[0].model.source"


def test_sharding_ratios_must_match_devices():
    with pytest.raises(ValueError, match="one ratio per device"):
        InferenceServiceSpec.model_validate(
            {
                "name": "a",
                "model": "m",
                "accelerator": {"vendor": "nvidia", "count": 2},
                "sharding": {"mode": "layer", "splitRatios": [1, 1, 1]},
            }
        )


def test_moe_active_cannot_exceed_total():
    with pytest.raises(ValueError, match="cannot exceed"):
        ModelSpec(source="hf://a/b/c.gguf", totalParametersB=3, activeParametersB=4)


@given(
    st.sampled_from(
        [
            "hf://org/repo/file.gguf",
            "hf://org/repo@main/sub/file.gguf",
            "s3://bucket-1/key/x.gguf",
            "https://models.internal/a/b.gguf",
            "pvc://claim/path/x.gguf",
            "file:///srv/x.gguf",
            "oci://registry.local:5000/models/x:1.0",
            "hf://org/repo",
        ]
    )
)
def test_source_normalisation_is_idempotent(uri):
    once = parse_source(uri)
    assert parse_source(once.uri) == once


@given(st.text(max_size=60))
def test_arbitrary_source_text_never_crashes_unexpectedly(text):
    try:
        parse_source(text)
    except ValueError as exc:
        assert "source" in str(exc)


@given(replicas=st.integers(min_value=-5, max_value=50), count=st.integers(min_value=-2, max_value=20))
def test_replicas_and_counts_are_range_checked(replicas, count):
    raw = minimal_stack()
    raw["services"][0].update(replicas=replicas, accelerator={"vendor": "nvidia", "count": count})
    if replicas >= 0 and 0 <= count <= 16:
        load_stack_config(raw)
    else:
        paths = [p for p, _ in problems(raw)]
        assert any(p.startswith("services[0].") for p in paths)


def _mlx(**kw) -> dict:
    return {"name": "chat", "model": "tiny", "runtime": "mlx", "accelerator": {"vendor": "metal"}, **kw}


@pytest.mark.parametrize("vendor", ["nvidia", "cpu", "amd", "intel-gaudi", "intel-xpu"])
def test_mlx_is_refused_on_every_kubernetes_vendor_naming_the_choices(vendor):
    raw = minimal_stack(services=[_mlx(accelerator={"vendor": vendor})])
    found = dict(problems(raw))
    message = found["services[0].accelerator"]
    assert f"runtime mlx does not run on {vendor}: valid runtimes for {vendor}: " in message
    assert message.endswith("vendors mlx runs on: metal")
    assert "mlx" not in message.split("valid runtimes for")[1].split(";")[0]  # never offered where it cannot run


def test_mlx_on_metal_is_accepted_and_its_limits_are_refused():
    svc = load_stack_config(minimal_stack(services=[_mlx()])).services[0]
    assert svc.runtime == "mlx" and svc.device_count == 0
    for extra, path, words in [
        ({"kvCacheTypeK": "q8_0"}, "services[0].kvCacheTypeK", "runtime mlx has no KV cache type option"),
        ({"mode": "embedding"}, "services[0]", "runtime mlx serves mode chat, not embedding"),
        ({"engine": {"servedModelName": "qwen"}}, "services[0]", "answers only to model 'default_model'"),
        ({"sharding": {"mode": "layer"}}, "services[0]", "mlx shards by nothing"),
    ]:
        found = problems(minimal_stack(services=[_mlx(**extra)]))
        assert any(p == path and words in m for p, m in found), (extra, found)
