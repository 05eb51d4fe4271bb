"""Ollama: simple GGUF serving (OpenAI API under /v1); no queue metric, so HPA-on-CPU only.

Ollama serves only models it has "created", so one shell wrapper (the only one in the project)
starts `ollama serve`, waits for it, registers the weights ($1) under the served name ($2), then
stays in the foreground: the kubelet and the metal-agent both supervise `ollama serve` through it.
The Modelfile is named after the shell's pid, never after the served name (which may hold '/').
"""

from __future__ import annotations

from .base import NativeRun, Runtime, ServeContext

VERSION = "0.12.6"
WRAPPER = (
    "ollama serve & pid=$!; trap 'kill -TERM $pid 2>/dev/null' TERM INT; "
    "until ollama list >/dev/null 2>&1; do kill -0 $pid 2>/dev/null || exit 1; sleep 0.5; done; "
    'mf="${TMPDIR:-/tmp}/llmkube-$$.Modelfile"; printf \'FROM %s\\n\' "$1" > "$mf" && '
    'ollama create "$2" -f "$mf" || { kill -TERM $pid; exit 1; }; wait $pid'
)
COMMAND = ("/bin/sh", "-c", WRAPPER, "llmkube-ollama")  # then: weights path, served name


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
    build_command=lambda ctx: list(COMMAND),
    build_args=lambda ctx: [ctx.model_path, ctx.served_name],
    build_env=_env,
    native=NativeRun(
        name="ollama",
        command=COMMAND,
        build_args=lambda ctx: [ctx.model_path, ctx.served_name],
        env={"OLLAMA_HOST": "{host}:{port}"},
        # Ollama has no /health; its OpenAI model route answers 200 only once the model is registered
        health_path="/v1/models/{served}",
        model_formats=("gguf",),
    ),
)
