"""Any OpenAI-compatible server image: the caller gives image, command and args."""

from __future__ import annotations

from .base import Runtime, ServeContext


def _passthrough(ctx: ServeContext, what: str) -> list[str]:
    value = getattr(ctx.service, what)
    return [a.replace("{model}", ctx.model_path).replace("{port}", str(ctx.port)) for a in (value or ())]


RUNTIME = Runtime(
    name="generic",
    images={},  # the service always names the image (needs_image): it runs on every schedulable vendor
    port=8080,
    health_path="/health",
    ready_path="/health",
    metrics_path="/metrics",
    queue_metric=None,
    kv_cache_types=None,  # whatever the image's server understands
    build_command=lambda ctx: _passthrough(ctx, "command"),
    build_args=lambda ctx: _passthrough(ctx, "args"),
    needs_image=True,
)
