"""Ollama: simple GGUF serving (OpenAI API under /v1); no queue metric, so HPA-on-CPU only."""
from __future__ import annotations

from .base import ServeContext, Runtime

VERSION = "0.12.6"


# Ollama serves models it has "created": register the cached GGUF ($1) under the served name ($2),
# then keep serving. Both travel as arguments, never inside the script text.
SERVE_SCRIPT = (
    "ollama serve & pid=$!; "
    "until ollama list >/dev/null 2>&1; do sleep 1; done; "
    "printf 'FROM %s\\n' \"$1\" > /tmp/Modelfile && "
    "ollama create \"$2\" -f /tmp/Modelfile || exit 1; wait $pid"
)


def _command(ctx: ServeContext) -> list[str]:
    return ["/bin/sh", "-c", SERVE_SCRIPT, "ollama-serve", ctx.model_path, ctx.served_name]


def _env(ctx: ServeContext) -> dict[str, str]:
    env = {
        "OLLAMA_HOST": f"0.0.0.0:{ctx.port}",
        "OLLAMA_MODELS": "/cache/ollama",
        "OLLAMA_NUM_PARALLEL": str(ctx.service.parallel_slots),
        "OLLAMA_KEEP_ALIVE": "-1",
    }
    if ctx.service.context_size:
        env["OLLAMA_CONTEXT_LENGTH"] = str(ctx.service.context_size)
    if ctx.service.flash_attention is not None:
        env["OLLAMA_FLASH_ATTENTION"] = "1" if ctx.service.flash_attention else "0"
    if ctx.service.kv_cache_type_k:
        env["OLLAMA_KV_CACHE_TYPE"] = ctx.service.kv_cache_type_k
    return env


RUNTIME = Runtime(
    name="ollama",
    images={
        "cpu": f"docker.io/ollama/ollama:{VERSION}",
        "cuda": f"docker.io/ollama/ollama:{VERSION}",
        "rocm": f"docker.io/ollama/ollama:{VERSION}-rocm",
    },
    port=11434,
    health_path="/",
    ready_path="/api/tags",
    metrics_path=None,
    queue_metric=None,
    kv_cache_types=("f16", "q8_0", "q4_0"),
    build_command=_command,
    build_args=lambda ctx: [],
    build_env=_env,
    metal_native=True,
)
