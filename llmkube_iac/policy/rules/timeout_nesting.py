"""timeout-nesting: client > router > runtime. A layer that gives up while the layer below is still
working retries (or reports) work that is still running: duplicate GPU load and confusing errors."""

from __future__ import annotations

from ..base import Rule, Violation
from ..view import StackView

RUNTIME_TIMEOUT_FLAGS = ("--timeout", "-to")  # llama.cpp / llama-server: --timeout N (seconds)
# No runtime bounds a request by default (llama.cpp's 600 s is a socket read/write timeout, not a
# processing limit), so only explicit bounds count; a site declares others (e.g. a sidecar) here.
DEFAULT_RUNTIME_TIMEOUTS: dict[str, float] = {}


def runtime_timeout(svc, cfg: dict) -> float | None:
    """Explicit `--timeout N` in the service's args/extraArgs, else the configured bound per runtime."""
    words = [str(w) for w in (svc.args or ()) + tuple(svc.extra_args)]
    for i, w in enumerate(words):
        for flag in RUNTIME_TIMEOUT_FLAGS:
            if w.startswith(flag + "="):
                value: str | None = w.split("=", 1)[1]
            else:
                value = words[i + 1] if w == flag and i + 1 < len(words) else None
            if value is not None:
                try:
                    return float(value)
                except ValueError:
                    return None
    return (cfg.get("runtimeTimeouts") or DEFAULT_RUNTIME_TIMEOUTS).get(svc.runtime)


def check_timeouts(view: StackView, cfg: dict):
    client = cfg.get("clientTimeoutSeconds")
    for site in view.sites.values():
        services = {s.spec.name: s.spec for s in site.services}
        for res, router in site.routers:
            t = router.timeouts
            stream = t.stream_seconds or t.request_seconds
            budget = t.request_seconds * (t.num_retries + 1)
            if client is not None and not client > budget:
                yield Violation(
                    f"router {router.name}: clients give up after {client:g}s but the router may work "
                    f"{t.request_seconds:g}s x {t.num_retries + 1} attempt(s) = {budget:g}s",
                    res.urn,
                )
            for backend in router.local_backends:
                svc = services.get(backend.service)
                if svc is None:
                    continue
                rt = runtime_timeout(svc, cfg)
                if rt is None:
                    continue
                for label, value in (("requestSeconds", t.request_seconds), ("streamSeconds", stream)):
                    if not value > rt:
                        yield Violation(
                            f"router {router.name}: timeouts.{label} {value:g}s is not above service "
                            f"{svc.name}'s runtime timeout {rt:g}s ({svc.runtime}): the router would retry a "
                            "request the runtime is still working on",
                            res.urn,
                        )
                        break


RULE = Rule(
    "timeout-nesting",
    "Request timeouts nest: client > router (x attempts) > runtime, so no layer retries "
    "work a lower layer is still doing.",
    "mandatory",
    "Raise the router's timeouts.requestSeconds above the runtime's bound (extraArgs [--timeout, N] or "
    "runtimeTimeouts), or lower that bound; keep the client timeout above requestSeconds x "
    "(numRetries + 1).",
    "stack",
    check_timeouts,
    {
        "clientTimeoutSeconds": {
            "type": ["number", "null"],
            "default": None,
            "description": "Your clients' timeout; unset: the client check is skipped",
        },
        "runtimeTimeouts": {
            "type": "object",
            "default": DEFAULT_RUNTIME_TIMEOUTS,
            "description": "Request bound per runtime when the service sets none (none by default)",
        },
    },
)
