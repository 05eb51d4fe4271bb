"""llama.cpp's llama-server: GGUF on CPU, CUDA, ROCm, SYCL/Vulkan; the workhorse for edge sites."""

from __future__ import annotations

from .base import NativeRun, Runtime, RuntimeMetrics, ServeContext, flag

BUILD = "b6710"
KV_TYPES = ("f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "iq4_nl", "q5_0", "q5_1")


def _args(ctx: ServeContext, host: str = "0.0.0.0", port: str | None = None) -> list[str]:
    svc, eng = ctx.service, ctx.service.engine
    args = ["--model", ctx.model_path, "--host", host, "--port", port or str(ctx.port), "--alias", ctx.served_name]
    flag(args, "--ctx-size", svc.context_size)
    flag(args, "--parallel", svc.parallel_slots)
    if ctx.devices > 0:
        flag(args, "--n-gpu-layers", 99)
    if svc.sharding and ctx.devices > 1:
        flag(args, "--split-mode", svc.sharding.mode)
        if svc.sharding.split_ratios:
            flag(args, "--tensor-split", ",".join(f"{r:g}" for r in svc.sharding.split_ratios))
    if svc.flash_attention is not None:
        flag(args, "--flash-attn", "on" if svc.flash_attention else "off")
    flag(args, "--jinja", eng.jinja and svc.mode == "chat")
    flag(args, "--cache-type-k", svc.kv_cache_type_k)
    flag(args, "--cache-type-v", svc.kv_cache_type_v)
    if svc.moe_cpu_offload:
        if svc.moe_cpu_offload.all_experts:
            flag(args, "--cpu-moe", True)
        else:
            flag(args, "--n-cpu-moe", svc.moe_cpu_offload.layers)
    flag(args, "--threads", eng.threads)
    flag(args, "--batch-size", eng.batch_size)
    flag(args, "--ubatch-size", eng.ubatch_size)
    flag(args, "--metrics", True)
    # /slots returns every slot's in-flight prompt and generated text to any caller that can reach the port:
    # off, on Kubernetes and on metal hosts alike (llama.cpp common/arg.cpp: --no-slots)
    flag(args, "--no-slots", True)
    flag(args, "--embedding", svc.mode == "embedding")
    flag(args, "--reranking", svc.mode == "rerank")
    return args


def _native_args(ctx: ServeContext) -> list[str]:
    """The same flags for the agent's placeholders; Metal: every layer on the GPU (unified memory)."""
    return _args(ctx, "{host}", "{port}") + ["--n-gpu-layers", "99"] + list(ctx.service.extra_args)


RUNTIME = Runtime(
    name="llamacpp",
    images={
        "cpu": f"ghcr.io/ggml-org/llama.cpp:server-{BUILD}",
        "cuda": f"ghcr.io/ggml-org/llama.cpp:server-cuda-{BUILD}",
        "rocm": f"ghcr.io/ggml-org/llama.cpp:server-rocm-{BUILD}",
        "sycl": f"ghcr.io/ggml-org/llama.cpp:server-intel-{BUILD}",
    },
    port=8080,
    health_path="/health",
    ready_path="/health",
    metrics_path="/metrics",
    queue_metric="llamacpp:requests_deferred",
    kv_cache_types=KV_TYPES,
    build_command=lambda ctx: ["/app/llama-server"],
    build_args=_args,
    # on metal hosts it demands a key (one per line in the file; /health stays public: tools/server/README.md)
    native=NativeRun(
        name="llama-server",
        command=("llama-server",),
        build_args=_native_args,
        model_formats=("gguf",),
        api_key_file_flag="--api-key-file",
    ),
    sharding_modes=("layer", "row"),
    moe_cpu_offload=True,
    # llama-server --metrics (tools/server): token counters and gauges only: no request counter with
    # errors and no latency histogram, so no SLO
    metrics=RuntimeMetrics(
        generated_tokens_total="llamacpp:tokens_predicted_total", running="llamacpp:requests_processing"
    ),
)
