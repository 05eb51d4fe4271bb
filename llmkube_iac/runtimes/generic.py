"""Any OpenAI-compatible server image: the caller gives image, command and args."""
from __future__ import annotations

from .base import Runtime, ServeContext

ANY_FLAVOUR = ("cpu", "cuda", "rocm", "gaudi", "sycl")


def _passthrough(ctx: ServeContext, what: str) -> list[str]:
    value = getattr(ctx.service, what)
    return [a.replace("{model}", ctx.model_path).replace("{port}", str(ctx.port)) for a in (value or ())]


RUNTIME = Runtime(
    name="generic",
    images={flavour: "" for flavour in ANY_FLAVOUR},  # image is always given by the service
    port=8080,
    health_path="/health",
    ready_path="/health",
    metrics_path="/metrics",
    queue_metric=None,
    kv_cache_types=(),
    build_command=lambda ctx: _passthrough(ctx, "command"),
    build_args=lambda ctx: _passthrough(ctx, "args"),
)
