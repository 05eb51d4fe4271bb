"""Hugging Face Text Generation Inference: safetensors serving on CUDA, ROCm, Gaudi, XPU, CPU."""

from __future__ import annotations

from .base import Runtime, RuntimeMetrics, ServeContext, flag

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


def _duration_buckets() -> tuple[float, ...]:
    """The bounds TGI's router gives every `*duration` histogram: 0.0001 multiplied by 1.5 thirty-five
    times (0.00015 .. 145.6 s), computed the same way in doubles, so each bound is its `le` label exactly."""
    bounds, value = [], 0.0001
    for _ in range(35):
        value *= 1.5
        bounds.append(value)
    return tuple(bounds)


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
    # TGI's router metrics (router/src/server.rs, infer/mod.rs; served on the API port's /metrics too).
    # Its tgi_request_count counts an OpenAI-route request twice (the route and the generation it calls
    # each add one), so availability is failures / successes: within a few hundredths of a percent of
    # failures / all at the error rates an objective allows. Client errors (422: validation, chat
    # template) are not failures; overloaded (429), dropped, generation and incomplete are.
    # tgi_request_duration (whole request, successful ones) has the buckets above; the generated-token
    # histogram's _sum counts tokens; tgi_batch_current_size is the batch being decoded. No TTFT
    # histogram and no KV-cache gauge.
    metrics=RuntimeMetrics(
        requests_total="tgi_request_success",
        errors_total="tgi_request_failure",
        errors_selector='err!~"validation|template"',
        latency_histogram="tgi_request_duration",
        latency_buckets=_duration_buckets(),
        generated_tokens_total="tgi_request_generated_tokens_sum",
        running="tgi_batch_current_size",
    ),
)
