"""Fetch and fit seams: the project's fetcher and GQA-aware estimator, and the size-based fallback."""

from __future__ import annotations

import hashlib

import pytest

from llmkube_iac.agent import preflight
from llmkube_iac.plan.metal import service_state
from llmkube_iac.spec import InferenceServiceSpec, ModelSpec
from tests.support.synth import write_model

from .conftest import free_port, lease_status, put_secret, slice_ready, status, wait_for, write_desired


@pytest.fixture
def real_gguf(tmp_path):
    (tmp_path / "src").mkdir()
    path = write_model(tmp_path / "src" / "tiny.gguf")
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


def planned(path, digest, ctx=32768, slots=4):
    model = ModelSpec(name="tiny", source=f"file://{path}", sha256=digest)
    svc = InferenceServiceSpec.model_validate(
        {
            "name": "chat",
            "model": "tiny",
            "accelerator": {"vendor": "metal"},
            "contextSize": ctx,
            "parallelSlots": slots,
            "endpoint": {"port": free_port()},
        }
    )
    return service_state(svc, model)


def test_real_fit_estimator_counts_the_kv_cache(real_gguf):
    state = planned(*real_gguf)
    est = preflight.default_estimate(state, real_gguf[0], 1 << 30)
    size = preflight.size_estimate(state, real_gguf[0], 1 << 30)
    assert est.verdict == "fits" and "KV" in est.detail
    assert est.bytes > 4 * size.bytes  # 32k context x 4 slots dwarfs this tiny model's weights


def test_planned_service_runs_and_is_refused_on_kv_cache(api, start_agent, real_gguf):
    state = planned(*real_gguf)
    put_secret(api, "chat-api-key", "api-key", "k-123")  # the planned llama-server demands its API key
    write_desired(api, [state], budget=40 << 20)  # room for the weights, not for their KV cache
    agent, _ = start_agent()
    st = wait_for(
        lambda: (
            lease_status(api).get("services", {}).get("chat", {}).get("phase") == "Refused"
            and lease_status(api)["services"]["chat"]
        ),
        what="refused by the fit estimator",
    )
    assert "KV" in st["reason"] and "does-not-fit" in st["reason"]
    write_desired(api, [state], budget=1 << 30)  # memory budget raised: same service now starts
    wait_for(lambda: slice_ready(api, "chat") is True, what="ready with enough memory")
    assert status(agent, "chat")["estimateBytes"] > 40 << 20


def test_project_fetcher_is_used_and_rejects_a_wrong_hash(real_gguf, tmp_path):
    state = planned(real_gguf[0], "0" * 64)
    with pytest.raises(preflight.FetchError, match="(?i)sha256"):
        preflight.default_fetch(state, tmp_path / "cache")
    assert not (tmp_path / "cache" / "tiny.gguf").exists()
    good = preflight.default_fetch(planned(*real_gguf), tmp_path / "cache")
    assert (tmp_path / "cache" / ".llmkube-verified.json").exists() and good.read_bytes() == real_gguf[0].read_bytes()


def test_one_fetch_error_for_agent_and_fetcher(real_gguf, tmp_path):
    """The agent reports the fetcher's own FetchError, and wraps a source the fetcher refuses in it."""
    from llmkube_iac.fetch import FetchError

    assert preflight.FetchError is FetchError
    oci = planned(*real_gguf).model_copy(update={"source": "oci://registry.local/models/tiny:1"})
    with pytest.raises(FetchError, match="cannot fetch oci://"):
        preflight.default_fetch(oci, tmp_path / "c")


def test_a_runtime_whose_memory_model_is_size_is_sized_by_its_weights_on_disk(real_gguf, tmp_path):
    """mlx-lm's registry entry says "size": the weights directory + 10%, never the CUDA-style fit estimator."""
    weights = tmp_path / "mlx-model"
    weights.mkdir()
    (weights / "model.safetensors").write_bytes(b"\0" * 4096)
    (weights / "config.json").write_text("{}")
    state = planned(*real_gguf).model_copy(update={"runtime": "mlx-lm"})
    est = preflight.default_estimate(state, weights, 1 << 30)
    assert est.verdict == "fits" and "size-based estimate" in est.detail
    assert est.bytes == max(int((4096 + 2) * 1.1), state.memory_estimate_bytes or 0)
