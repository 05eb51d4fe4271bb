"""vLLM: the throughput runtime for datacenter GPUs (CUDA, ROCm, Gaudi, XPU; CPU on request)."""

from __future__ import annotations

from .base import Runtime, RuntimeMetrics, ServeContext, flag

VERSION = "v0.11.0"
KV_TYPES = ("auto", "fp8", "fp8_e4m3", "fp8_e5m2")
# model.quantization -> --quantization; others (INT4 compressed-tensors, BF16) are auto-detected
QUANTIZATION = {"awq": "awq", "awq_marlin": "awq_marlin", "gptq": "gptq", "fp8": "fp8", "bitsandbytes": "bitsandbytes"}


def _args(ctx: ServeContext) -> list[str]:
    svc, eng = ctx.service, ctx.service.engine
    args = [ctx.model_path, "--host", "0.0.0.0", "--port", str(ctx.port), "--served-model-name", ctx.served_name]
    if ctx.devices > 1:
        flag(args, "--tensor-parallel-size", ctx.devices)
    flag(args, "--max-model-len", svc.context_size)
    flag(args, "--max-num-seqs", svc.parallel_slots if svc.parallel_slots > 1 else None)
    flag(args, "--gpu-memory-utilization", eng.gpu_memory_utilization)
    flag(args, "--max-num-batched-tokens", eng.max_num_batched_tokens)
    quant = (ctx.model.quantization or "").lower()
    flag(args, "--quantization", QUANTIZATION.get(quant))
    kv = svc.kv_cache_type_k or svc.kv_cache_type_v
    flag(args, "--kv-cache-dtype", kv)
    if eng.enable_prefix_caching is not None:
        flag(args, "--enable-prefix-caching" if eng.enable_prefix_caching else "--no-enable-prefix-caching", True)
    flag(args, "--enforce-eager", eng.enforce_eager)
    flag(args, "--trust-remote-code", eng.trust_remote_code)
    if svc.mode in ("embedding", "rerank"):
        flag(args, "--task", "embed" if svc.mode == "embedding" else "score")
    return args


def _env(ctx: ServeContext) -> dict[str, str]:
    return {"VLLM_NO_USAGE_STATS": "1", "VLLM_CACHE_ROOT": "/cache/vllm"}


RUNTIME = Runtime(
    name="vllm",
    images={
        "cuda": f"docker.io/vllm/vllm-openai:{VERSION}",
        "rocm": "docker.io/rocm/vllm:rocm6.4.1_vllm_0.10.1_20250909",
        "gaudi": "vault.habana.ai/gaudi-docker/1.22.0/ubuntu24.04/habanalabs/vllm-fork:v0.9.0.1",
        "sycl": "docker.io/intel/vllm:0.10.1-xpu",
        "cpu": f"public.ecr.aws/q9t5s3a7/vllm-cpu-release-repo:{VERSION}",
    },
    port=8000,
    health_path="/health",
    ready_path="/health",
    metrics_path="/metrics",
    queue_metric="vllm:num_requests_waiting",
    kv_cache_types=KV_TYPES,
    build_command=lambda ctx: ["vllm", "serve"],
    build_args=_args,
    sharding_modes=("tensor",),
    build_env=_env,
    opt_in_flavours={"cpu": "accelerator.allowVllmOnCpu"},
    # vllm/v1/metrics/loggers.py: finished requests by finished_reason (stop, length, abort), the e2e
    # latency histogram and its buckets, time to first token, KV-cache usage (0..1)
    metrics=RuntimeMetrics(
        requests_total="vllm:request_success_total",
        errors_selector='finished_reason="abort"',
        latency_histogram="vllm:e2e_request_latency_seconds",
        latency_buckets=(
            0.3,
            0.5,
            0.8,
            1.0,
            1.5,
            2.0,
            2.5,
            5.0,
            10.0,
            15.0,
            20.0,
            30.0,
            40.0,
            50.0,
            60.0,
            120.0,
            240.0,
            480.0,
            960.0,
            1920.0,
            7680.0,
        ),
        generated_tokens_total="vllm:generation_tokens_total",
        ttft_histogram="vllm:time_to_first_token_seconds",
        kv_cache_usage="vllm:kv_cache_usage_perc",
        running="vllm:num_requests_running",
    ),
)
