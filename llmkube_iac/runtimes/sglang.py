"""SGLang: high-throughput serving with RadixAttention on CUDA and ROCm."""

from __future__ import annotations

from .base import Runtime, RuntimeMetrics, ServeContext, flag

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
    flag(args, "--enable-metrics", True)  # without it SGLang serves no /metrics
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
    # SGLang's metrics collector (python/sglang/srt/metrics/collector.py) with --enable-metrics: finished
    # requests and aborted ones (client gone, abort call) as availability's total and errors; one aborted
    # while running also finishes (in both), one aborted while still queued never does (errors only), so
    # the ratio errs high. Requests the scheduler ends with a 5xx count as finished only: there is no
    # counter of them. The e2e latency and TTFT histograms keep their default buckets (no --bucket-* flag
    # is passed); token_usage is the share of KV-cache tokens in use.
    metrics=RuntimeMetrics(
        requests_total="sglang:num_requests_total",
        errors_total="sglang:num_aborted_requests_total",
        latency_histogram="sglang:e2e_request_latency_seconds",
        latency_buckets=(
            0.1,
            0.2,
            0.4,
            0.6,
            0.8,
            1.0,
            2.0,
            4.0,
            6.0,
            8.0,
            10.0,
            20.0,
            40.0,
            60.0,
            80.0,
            100.0,
            200.0,
            400.0,
            600.0,
            1200.0,
            1800.0,
            2400.0,
        ),
        generated_tokens_total="sglang:generation_tokens_total",
        ttft_histogram="sglang:time_to_first_token_seconds",
        kv_cache_usage="sglang:token_usage",
        running="sglang:num_running_reqs",
    ),
)
