"""mlx-lm's `mlx_lm.server`: MLX-format Hugging Face directories on Apple Silicon, run by the metal-agent.

MLX needs Apple's Metal, which no Kubernetes node offers, so there is no container image: every
Kubernetes vendor refuses the runtime and only metal hosts run it, natively. The server loads the
model given by --model under the name "default_model"; any other name in a request is taken as a
Hugging Face repository to download, so requests must carry that name and the hub stays offline.
"""

from __future__ import annotations

from .base import NativeRun, Runtime, ServeContext, flag

SERVED_NAME = "default_model"  # mlx_lm.server's name for the model given by --model


def _no_container(ctx: ServeContext) -> list[str]:
    raise ValueError("runtime mlx has no container image: it runs on metal hosts only (accelerator.vendor: metal)")


def _native_args(ctx: ServeContext) -> list[str]:
    args = ["--model", ctx.model_path, "--host", "{host}", "--port", "{port}"]
    flag(args, "--trust-remote-code", ctx.service.engine.trust_remote_code)
    return args + list(ctx.service.extra_args)


RUNTIME = Runtime(
    name="mlx",
    images={},  # none: Kubernetes cannot schedule Metal
    port=8080,
    health_path="/health",
    ready_path="/health",
    metrics_path=None,
    queue_metric=None,
    kv_cache_types=(),  # the server has no KV cache type option
    build_command=_no_container,
    build_args=_no_container,
    native=NativeRun(
        name="mlx-lm",
        command=("mlx_lm.server",),
        build_args=_native_args,
        # a request naming another model must fail, not download it from the hub
        env={"HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"},
        # mlx_lm.server answers /health as soon as it listens; the model loads on its worker thread and
        # requests wait for it. The fit estimator models CUDA-style runtimes, so size the weights on disk.
        health_path="/health",
        memory_model="size",
        model_formats=("mlx", "safetensors"),
    ),
    served_name=SERVED_NAME,
    modes=("chat",),
)
