"""What the agent knows about one desired service, and the restart back-off rule after its process exits.

Why apart from supervisor.py: the supervisor is the event loop and its threads; this is the per-service
record those events update and the pure arithmetic of back-off and crash-loop detection (exponential
delay, reset after a stable run, N exits in a window), which needs no thread, process or clock of its own.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..spec.metal import MetalServiceState
from .config import AgentConfig
from .preflight import Estimate
from .process import Child, tail

ACTIVE = ("Starting", "Ready", "BackOff", "CrashLoopBackOff", "Unhealthy")  # phases that hold memory
_gens = itertools.count(1)


@dataclass
class Svc:
    """What the agent knows about one desired service (replaced wholesale when its version changes)."""

    state: MetalServiceState
    version: str
    gen: int = field(default_factory=lambda: next(_gens))
    phase: str = "Fetching"
    reason: str = ""
    child: Child | None = None
    ready: bool = False
    restarts: int = 0
    failures: int = 0
    exits: list[float] = field(default_factory=list)
    restart_at: float | None = None
    model_path: Path | None = None
    estimate: Estimate | None = None
    health_failures: int = 0
    api_key_file: Path | None = None  # where the runtime's API key was written (when it demands one)


def back_off(svc: Svc, cfg: AgentConfig, code: int) -> bool:
    """Book an exit of `svc`'s process (exit `code`): schedule its restart with exponential back-off and set
    its phase and reason; True when it is crash looping (the caller reports that)."""
    now = time.monotonic()
    if now - svc.child.started_at >= cfg.stable_seconds:
        svc.failures = 0
    svc.failures += 1
    svc.restarts += 1
    svc.exits = [t for t in svc.exits if now - t < cfg.crashloop_window_seconds] + [now]
    backoff = min(cfg.backoff_base_seconds * 2 ** (svc.failures - 1), cfg.backoff_max_seconds)
    svc.restart_at = now + backoff
    last = tail(svc.child.log_path)
    why = f"exited with code {code}" + (f" ({last})" if last else "")
    if len(svc.exits) >= cfg.crashloop_restarts:
        svc.phase = "CrashLoopBackOff"
        svc.reason = (
            f"{why}; {len(svc.exits)} exits in {cfg.crashloop_window_seconds:.0f}s, "
            f"restart {svc.restarts} in {backoff:.1f}s"
        )
        return True
    svc.phase, svc.reason = "BackOff", f"{why}; restarting in {backoff:.1f}s"
    return False


def _sub(text: str, subs: dict[str, str]) -> str:
    for key, value in subs.items():
        text = text.replace(key, value)
    return text


def _connect(bind: str) -> str:
    return "127.0.0.1" if bind in ("0.0.0.0", "") else bind


def _short(err: Exception) -> str:
    return " ".join(str(err).split())[:500]
