"""The agent's local settings (overrides of how to run runtimes, timings, where to cache), not the desired state.

How each runtime runs natively (command, environment, health path, memory model) is the runtime
registry's (`llmkube_iac.runtimes`, each entry's `native`); a host only overrides a command, e.g.
where its llama-server lives (`--runtime llama-server=/opt/homebrew/bin/llama-server`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..runtimes import native_runtime
from .preflight import Estimator, Fetcher, default_estimate, default_fetch


@dataclass
class AgentConfig:
    """Timings are tuned for the targets: exit->unready <= 1 s, exit->restart <= 2 s, idle CPU < 1%."""

    host: str
    namespace: str
    cache_dir: Path
    state_dir: Path
    runtimes: dict[str, list[str]] = field(default_factory=dict)  # native name -> command replacing the registry's
    bind_address: str | None = None  # default: the desired state's address
    lease_renew_seconds: float = 5.0
    lease_duration_seconds: int = 30
    poll_seconds: float = 10.0  # fallback when watches fail
    watch_timeout_seconds: int = 60
    health_poll_seconds: float = 0.1
    liveness_seconds: float = 5.0
    liveness_failures: int = 3
    start_timeout_seconds: float = 1800.0  # large models load for many minutes
    backoff_base_seconds: float = 0.5
    backoff_max_seconds: float = 60.0
    crashloop_restarts: int = 3
    crashloop_window_seconds: float = 120.0
    stable_seconds: float = 60.0  # a run this long resets the backoff
    pressure_seconds: float = 1.0
    evict_cooldown_seconds: float = 3.0
    meminfo: str | None = None  # Linux/testing: read pressure from this meminfo file
    metrics_address: str = "127.0.0.1"
    metrics_port: int | None = 9464
    stop_grace_seconds: float = 10.0
    slice_resync_seconds: float = 30.0  # re-check every slice this often (a `pulumi up` may have reset it)
    probe_addresses: tuple[str, ...] | None = None  # where to look for a port bound too widely; None: this host's
    fetch: Fetcher = default_fetch
    estimate: Estimator = default_estimate

    def command(self, name: str) -> list[str]:
        """The command prefix for native runtime `name`: this host's override, else the registry's."""
        return list(self.runtimes[name]) if name in self.runtimes else list(native_runtime(name).command)
