"""Fit estimator rules, catalog, accelerator table, plan-time facts, hf via HF_ENDPOINT, CLI."""

from __future__ import annotations

import json

from llmkube_iac.cli import main
from llmkube_iac.modelinfo import facts_at_plan_time, fit_service, inspect_source
from llmkube_iac.modelinfo.accelerators import lookup_accelerator
from llmkube_iac.modelinfo.catalog import REFERENCE_TABLE, catalog_info, load_catalog
from llmkube_iac.modelinfo.fit import kv_cache_bytes
from llmkube_iac.spec.model import ModelSpec
from llmkube_iac.spec.service import InferenceServiceSpec
from tests.support.file_server import FileServer

GiB = 1 << 30


def _svc(**kw):
    base = {"name": "s", "model": "m", "accelerator": {"vendor": "nvidia", "count": 1, "product": "NVIDIA H100 80GB"}}
    base.update(kw)
    return InferenceServiceSpec.model_validate(base)


def test_gqa_kv_uses_kv_heads_not_embedding_width():
    info = catalog_info("llama-3.1-8b")
    # 32 layers x 8 KV heads x 128 x 2 (K,V) x 2 bytes = 128 KiB per token
    assert kv_cache_bytes(info, 8192) == 8192 * 32 * 8 * 128 * 2 * 2
    assert kv_cache_bytes(info, 8192, type_k="q8_0", type_v="q8_0") < kv_cache_bytes(info, 8192) * 0.55


def test_sliding_window_layers_capped():
    info = catalog_info("gemma-3-27b")
    full = kv_cache_bytes(info, 131072)
    no_swa = kv_cache_bytes(info.__class__(**{**info.__dict__, "swa_layers": None}), 131072)
    assert full < no_swa / 5


def test_mla_compressed():
    info = catalog_info("kimi-k2.5")
    assert kv_cache_bytes(info, 1024, runtime="vllm") == 1024 * 61 * (512 + 64) * 2


def test_accelerator_lookup_aliases():
    assert lookup_accelerator("h100").name == "NVIDIA H100 80GB"
    assert lookup_accelerator("NVIDIA  H100 80GB").memory_gib > 79
    assert lookup_accelerator("mi300x").vendor == "amd" and lookup_accelerator("nope") is None


def test_verdicts_and_fix():
    m = ModelSpec(name="m", source="hf://meta/llama-70b/x.gguf", quantization="Q4_K_M", totalParametersB=70.6)
    info = catalog_info("llama-3.3-70b", "Q4_K_M")
    r = fit_service(m, _svc(contextSize=131072), info=info)
    assert r.verdict == "does-not-fit" and r.max_context and r.max_context < 131072
    assert "accelerator.count: 2" in r.summary() and r.breakdown["weights"] > 39 * GiB
    r2 = fit_service(m, _svc(contextSize=8192), info=info)
    assert r2.verdict == "fits" and r2.headroom_bytes > 0 and r2.max_parallel >= 1
    r3 = fit_service(
        m, _svc(contextSize=131072, accelerator={"vendor": "nvidia", "count": 2, "product": "H100"}), info=info
    )
    assert r3.verdict != "does-not-fit" and r3.per_device_bytes < r.per_device_bytes


def test_unknown_names_missing_facts():
    m = ModelSpec(name="m", source="hf://x/y/z.gguf")
    r = fit_service(m, _svc(), product="H100")
    assert r.verdict == "unknown" and "layers" in r.missing and "cannot estimate" in r.summary()


def test_memory_gib_for_metal_and_moe_offload():
    m = ModelSpec(name="m", source="hf://x/y/z.gguf")
    info = catalog_info("qwen3-30b-a3b", "Q4_K_M")
    info.expert_bytes = int(info.total_bytes * 0.9)
    svc = InferenceServiceSpec.model_validate(
        {"name": "s", "model": "m", "accelerator": {"vendor": "metal"}, "contextSize": 8192}
    )
    r = fit_service(m, svc, memory_gib=12, info=info)
    assert r.verdict == "does-not-fit"
    off = InferenceServiceSpec.model_validate({**svc.model_dump(by_alias=True), "moeCpuOffload": {"allExperts": True}})
    r2 = fit_service(m, off, memory_gib=12, info=info)
    assert r2.verdict == "fits" and r2.host_bytes == info.expert_bytes


def test_catalog_has_required_models_and_no_invented_kv():
    cat = load_catalog()
    for name in REFERENCE_TABLE:
        assert name in cat


def test_plan_time_facts_local_and_unreachable(models):
    m = ModelSpec(name="m", source=f"file://{models['llama']}")
    info = facts_at_plan_time(m)
    assert info.total_bytes > 30 << 20
    assert facts_at_plan_time(ModelSpec(name="m", source="http://127.0.0.1:9/x.gguf")) is None
    assert facts_at_plan_time(ModelSpec(name="m", source="s3://bucket-1/key/x.gguf")) is None


def test_hf_source_honours_hf_endpoint(models, tmp_path, monkeypatch):
    repo = tmp_path / "org" / "tiny-GGUF" / "resolve" / "main"
    repo.mkdir(parents=True)
    (repo / "tiny.gguf").write_bytes(models["moe"].read_bytes())
    with FileServer(tmp_path) as srv:
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{srv.port}")
        info = inspect_source("hf://org/tiny-GGUF/tiny.gguf")
    assert info.expert_count == 4 and srv.requests == 1


def test_cli_inspect_fit_catalog(models, capsys):
    assert main(["inspect", str(models["gemma3"]), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["sliding_window"] == 512
    assert main(["fit", str(models["llama"]), "--accelerator", "L4", "--context", "4096"]) == 0
    assert capsys.readouterr().out.startswith("fits:")
    assert (
        main(
            [
                "fit",
                "catalog:llama-3.3-70b",
                "--accelerator",
                "RTX 4090",
                "--quantization",
                "Q4_K_M",
                "--context",
                "8192",
            ]
        )
        == 1
    )
    assert "does-not-fit" in capsys.readouterr().out
    assert main(["catalog"]) == 0 and "kimi-k2.5" in capsys.readouterr().out
    assert main(["fit", "catalog:nope", "--accelerator", "H100"]) == 2
    assert main(["inspect", "/nonexistent/x.gguf"]) == 2


def _dense(**kw):
    from llmkube_iac.modelinfo.info import ModelInfo

    base = dict(
        source="x",
        format="safetensors",
        block_count=32,
        embedding_length=4096,
        feed_forward_length=14336,
        head_count=32,
        head_count_kv=[8] * 32,
        key_length=128,
        value_length=128,
        vocab_size=128256,
        context_length=131072,
        total_bytes=16 * GiB,
    )
    base.update(kw)
    return ModelInfo(**base)


def _pool_case(info, context, parallel, memory_gib, runtime="vllm", **svc):
    from llmkube_iac.modelinfo.fit import vllm_overhead_bytes

    service = _svc(runtime=runtime, contextSize=context, parallelSlots=parallel, **svc)
    m = ModelSpec(name="m", source="hf://o/r")
    return service, fit_service(m, service, memory_gib=memory_gib, info=info), vllm_overhead_bytes(info, service, 1)


def test_vllm_needs_one_full_context_sequence_to_start_and_reports_concurrency():
    info = _dense()
    per_token = 32 * 8 * (128 + 128) * 2  # layers x KV heads x (K + V head size) x bf16
    seq = 32768 * per_token  # 4 GiB: one sequence of max_model_len (a multiple of vLLM's 16-token block)
    _, probe, over = _pool_case(info, 32768, 8, 80)
    base = info.total_bytes + over
    # a budget (memory x 0.9) that holds the weights, the overhead and 2.5 sequences
    mem = (base + 2.5 * seq) / 0.9 / GiB
    _, r, _ = _pool_case(info, 32768, 8, mem)
    assert r.verdict == "marginal" and r.max_parallel == 2 and r.per_device_bytes == base + seq
    assert r.breakdown["kv_cache"] == seq and r.kv_pool_bytes == r.device_memory_bytes - base
    assert "holds 2 full-context sequence(s) at once for 8 slot(s)" in r.summary()
    assert "parallelSlots <= 2" in " ".join(r.fixes)
    _, r2, _ = _pool_case(info, 32768, 2, mem)
    assert r2.verdict == "fits" and r2.max_parallel == 2  # the old rule (8 x 4 GiB up front) said does-not-fit
    # a budget that misses one sequence by a block: vLLM refuses to start
    _, r3, _ = _pool_case(info, 32768, 1, (base + seq - 16 * per_token + 4096) / 0.9 / GiB)
    assert r3.verdict == "does-not-fit" and r3.max_parallel == 0
    assert r3.max_context == 32768 - 16 and "contextSize <= 32752" in r3.summary()
    assert "refuses to start" in r3.summary()


def test_vllm_gpu_memory_utilization_is_the_budget():
    info = _dense()
    _, r, _ = _pool_case(info, 8192, 1, 80, engine={"gpuMemoryUtilization": 0.5})
    assert r.device_memory_bytes == int(80 * GiB * 0.5)


def test_vllm_sliding_window_peak_for_one_sequence_window_for_the_rest():
    """vLLM charges a sliding layer window - 1 + max_num_batched_tokens tokens (+1 block) to start; a running
    sequence frees the blocks that left its window, so concurrent sequences hold the window only."""
    info = _dense(sliding_window=1024, swa_layers=[il % 4 != 3 for il in range(32)])
    layer_token = 8 * 256 * 2
    service, r, over = _pool_case(info, 16384, 4, 80, engine={"maxNumBatchedTokens": 4096})
    peak_swa = (-(-(1024 - 1 + 4096) // 16) + 1) * 16
    assert r.breakdown["kv_cache"] == layer_token * (8 * 16384 + 24 * peak_swa)
    steady = layer_token * (8 * 16384 + 24 * (1024 + 16))
    pool = r.kv_pool_bytes
    assert r.max_parallel == 1 + (pool - r.breakdown["kv_cache"]) // steady
    assert r.max_parallel > pool // r.breakdown["kv_cache"]  # vLLM's own log figure is the conservative bound


def test_llamacpp_keeps_all_slots_up_front():
    """llama.cpp allocates contextSize cells for all slots at start: no pool, the whole cache must fit."""
    from llmkube_iac.modelinfo.fit import fit_service as fit

    info = _dense(format="gguf")
    m = ModelSpec(name="m", source="hf://o/r/x.gguf")
    svc = _svc(runtime="llamacpp", contextSize=32768, parallelSlots=4)
    r = fit(m, svc, memory_gib=20.5, info=info)  # 16 GiB weights + 4 GiB KV + compute > 20.5 x 0.95
    assert r.kv_pool_bytes is None and r.breakdown["kv_cache"] == 32768 * 32 * 8 * 256 * 2
    assert r.verdict in ("does-not-fit", "marginal")
    assert fit(m, svc, memory_gib=19, info=info).verdict == "does-not-fit"
