"""The agent's local settings (how to run runtimes, timings, where to cache), not the desired state."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .preflight import Estimator, Fetcher, default_estimate, default_fetch

# Native runtime -> command prefix; the desired state's args follow. `{host}`/`{port}`/`{model}`
# placeholders are substituted in args and env. Override per host with --runtime NAME=COMMAND.
# Ollama serves only models it has "created": serve, wait for it, register the fetched GGUF under
# the served name ($2, from $1), then stay in the foreground so the agent supervises `ollama serve`.
OLLAMA_WRAPPER = (
    'ollama serve & pid=$!; trap \'kill -TERM $pid 2>/dev/null\' TERM INT; '
    'until ollama list >/dev/null 2>&1; do kill -0 $pid 2>/dev/null || exit 1; sleep 0.5; done; '
    'mf="${TMPDIR:-/tmp}/llmkube-$2.Modelfile"; printf \'FROM %s\\n\' "$1" > "$mf" && '
    'ollama create "$2" -f "$mf" || { kill -TERM $pid; exit 1; }; wait $pid'
)
DEFAULT_RUNTIMES: dict[str, list[str]] = {
    "llama-server": ["llama-server"],
    "mlx-lm": ["mlx_lm.server"],
    "ollama": ["/bin/sh", "-c", OLLAMA_WRAPPER, "llmkube-ollama"],
}
DEFAULT_RUNTIME_ENV: dict[str, dict[str, str]] = {
    "ollama": {"OLLAMA_HOST": "{host}:{port}"},
}


@dataclass
class AgentConfig:
    """Timings are tuned for the targets: exit->unready <= 1 s, exit->restart <= 2 s, idle CPU < 1%."""

    host: str
    namespace: str
    cache_dir: Path
    state_dir: Path
    runtimes: dict[str, list[str]] = field(default_factory=lambda: dict(DEFAULT_RUNTIMES))
    runtime_env: dict[str, dict[str, str]] = field(default_factory=lambda: dict(DEFAULT_RUNTIME_ENV))
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
