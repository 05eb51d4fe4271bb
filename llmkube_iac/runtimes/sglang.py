"""SGLang: high-throughput serving with RadixAttention on CUDA and ROCm."""

from __future__ import annotations

from .base import Runtime, ServeContext, flag

VERSION = "v0.5.3"
QUANTIZATION = {"awq": "awq", "gptq": "gptq", "fp8": "fp8", "w8a8_int8": "w8a8_int8"}


def _args(ctx: ServeContext) -> list[str]:
    svc, eng = ctx.service, ctx.service.engine
    args = [
        "--model-path",
        ctx.model_path,
        "--host",
        "0.0.0.0",
        "--port",
        str(ctx.port),
        "--served-model-name",
        ctx.served_name,
    ]
    if ctx.devices > 1:
        flag(args, "--tp-size", ctx.devices)
    flag(args, "--context-length", svc.context_size)
    flag(args, "--max-running-requests", svc.parallel_slots if svc.parallel_slots > 1 else None)
    flag(args, "--mem-fraction-static", eng.gpu_memory_utilization)
    flag(args, "--quantization", QUANTIZATION.get((ctx.model.quantization or "").lower()))
    flag(args, "--kv-cache-dtype", svc.kv_cache_type_k)
    flag(args, "--trust-remote-code", eng.trust_remote_code)
    flag(args, "--is-embedding", svc.mode == "embedding")
    flag(args, "--enable-metrics", True)
    return args


RUNTIME = Runtime(
    name="sglang",
    images={
        "cuda": f"docker.io/lmsysorg/sglang:{VERSION}-cu126",
        "rocm": f"docker.io/lmsysorg/sglang:{VERSION}-rocm630-mi30x",
    },
    port=30000,
    health_path="/health",
    ready_path="/health",
    metrics_path="/metrics",
    queue_metric="sglang:num_queue_reqs",
    kv_cache_types=("auto", "fp8_e5m2", "fp8_e4m3"),
    build_command=lambda ctx: ["python3", "-m", "sglang.launch_server"],
    build_args=_args,
    sharding_modes=("tensor",),
)
