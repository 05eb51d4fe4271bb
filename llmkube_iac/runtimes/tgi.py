"""Hugging Face Text Generation Inference: safetensors serving on CUDA, ROCm, Gaudi, XPU, CPU."""

from __future__ import annotations

from .base import Runtime, ServeContext, flag

VERSION = "3.3.6"
QUANTIZATION = {"awq": "awq", "gptq": "gptq", "fp8": "fp8", "bitsandbytes": "bitsandbytes", "eetq": "eetq"}


def _args(ctx: ServeContext) -> list[str]:
    svc = ctx.service
    args = ["--model-id", ctx.model_path, "--hostname", "0.0.0.0", "--port", str(ctx.port)]
    if ctx.devices > 1:
        flag(args, "--num-shard", ctx.devices)
    if svc.context_size:
        flag(args, "--max-total-tokens", svc.context_size)
        flag(args, "--max-input-tokens", max(1, svc.context_size - 1))
    flag(args, "--max-concurrent-requests", svc.parallel_slots if svc.parallel_slots > 1 else None)
    flag(args, "--quantize", QUANTIZATION.get((ctx.model.quantization or "").lower()))
    flag(args, "--kv-cache-dtype", svc.kv_cache_type_k)
    flag(args, "--trust-remote-code", svc.engine.trust_remote_code)
    return args


RUNTIME = Runtime(
    name="tgi",
    images={
        "cuda": f"ghcr.io/huggingface/text-generation-inference:{VERSION}",
        "rocm": f"ghcr.io/huggingface/text-generation-inference:{VERSION}-rocm",
        "gaudi": f"ghcr.io/huggingface/text-generation-inference:{VERSION}-gaudi",
        "sycl": f"ghcr.io/huggingface/text-generation-inference:{VERSION}-intel-xpu",
        "cpu": f"ghcr.io/huggingface/text-generation-inference:{VERSION}-intel-cpu",
    },
    port=8080,
    health_path="/health",
    ready_path="/health",
    metrics_path="/metrics",
    queue_metric="tgi_queue_size",
    kv_cache_types=("fp8", "fp8_e4m3fn", "fp8_e5m2"),
    build_command=lambda ctx: ["text-generation-launcher"],
    build_args=_args,
    sharding_modes=("tensor",),
    build_env=lambda ctx: {"HUGGINGFACE_HUB_CACHE": "/cache/hf"},
)
