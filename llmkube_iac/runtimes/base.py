"""What every inference runtime declares, and the context a planner hands it.

A runtime module is data (images per flavour, port, probes, metrics) plus one function that
turns a service into engine arguments, always in the same order so plans are deterministic.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:  # pragma: no cover
    from ..hardware import VendorProfile
    from ..spec import InferenceServiceSpec, ModelSpec


@dataclass(frozen=True)
class ServeContext:
    """Everything a runtime needs to build its container: resolved, validated, vendor-aware."""

    service: "InferenceServiceSpec"
    model: "ModelSpec"
    model_path: str  # file (GGUF) or directory (HF layout) inside the container
    vendor: "VendorProfile"
    port: int
    served_name: str

    @property
    def devices(self) -> int:
        return self.service.device_count


@dataclass(frozen=True)
class Runtime:
    name: str
    images: dict[str, str]  # vendor image flavour -> pinned image
    port: int
    health_path: str
    ready_path: str
    metrics_path: str | None
    queue_metric: str | None  # Prometheus gauge of waiting requests (KEDA signal)
    kv_cache_types: tuple[str, ...]
    build_command: Callable[[ServeContext], list[str]]
    build_args: Callable[[ServeContext], list[str]]
    build_env: Callable[[ServeContext], dict[str, str]] = lambda ctx: {}
    writable_dirs: tuple[str, ...] = ("/tmp",)
    metal_native: bool = False  # has a native macOS build the metal-agent can run
    api_key_file_flag: str | None = None  # flag taking a file of API keys it then demands (None: it takes none)
    sharding_modes: tuple[str, ...] = ()  # how it splits a model over devices (layer/row, or tensor)
    moe_cpu_offload: bool = False  # can keep MoE expert weights in host RAM
    opt_in_flavours: dict[str, str] = field(default_factory=dict)  # flavour -> the flag that enables it
    startup_failure_threshold: int = 180  # x 10 s: large models load for many minutes

    def image_for(self, flavour: str) -> str | None:
        return self.images.get(flavour)

    def probes(self) -> dict[str, dict]:
        """Startup generous enough for model load; readiness gates traffic; liveness restarts hangs."""

        def get(path: str) -> dict:
            return {"httpGet": {"path": path, "port": "http"}}

        return {
            "startupProbe": {**get(self.health_path), "periodSeconds": 10, "timeoutSeconds": 5,
                             "failureThreshold": self.startup_failure_threshold},
            "readinessProbe": {**get(self.ready_path), "periodSeconds": 10, "timeoutSeconds": 5,
                               "failureThreshold": 3},
            "livenessProbe": {**get(self.health_path), "periodSeconds": 20, "timeoutSeconds": 10,
                              "failureThreshold": 6},
        }


def flag(args: list[str], name: str, value) -> None:
    """Append `name value` when value is set (bools: the bare flag when True)."""
    if value is None or value is False:
        return
    if value is True:
        args.append(name)
    else:
        args.extend([name, str(value)])


BASE_ENV = {
    # pods never reach a hub: weights come from the site cache
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    "HOME": "/tmp",
    "XDG_CACHE_HOME": "/cache",
}
