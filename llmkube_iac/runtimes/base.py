"""What every inference runtime declares, and the context a planner hands it.

A runtime module is data (images per flavour, port, probes, metrics) plus one function that
turns a service into engine arguments, always in the same order so plans are deterministic.
A runtime with a native macOS build also says how the metal-agent runs it (`NativeRun`), so the
planner and the agent read one entry instead of each keeping its own table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from ..hardware import VendorProfile
    from ..spec import InferenceServiceSpec, ModelSpec


@dataclass(frozen=True)
class ServeContext:
    """Everything a runtime needs to build its container: resolved, validated, vendor-aware."""

    service: InferenceServiceSpec
    model: ModelSpec
    model_path: str  # file (GGUF) or directory (HF layout) inside the container
    vendor: VendorProfile
    port: int
    served_name: str

    @property
    def devices(self) -> int:
        return self.service.device_count


MEMORY_MODELS = ("fit", "size")  # how the metal-agent sizes a native runtime before it admits it


@dataclass(frozen=True)
class NativeRun:
    """How the metal-agent runs a runtime as a native process on a metal host (no container, no image).

    `name` is the process name the desired state carries and the agent's `--runtime NAME=COMMAND`
    override keys on. Args and env may hold {model} (the fetched weights), {host} and {port}: the
    agent fills them in when it spawns the process. A runtime that can demand an API key names the
    flag taking a key file (`api_key_file_flag`): the planner passes it {api_key_file}, the file the
    agent writes the key from the service's Secret to (plan/metal_keys.py). `health_path` may hold
    {served} (the name the service answers to). Memory models: "fit" = weights + KV cache + buffers read from the file's
    header (the fit estimator); "size" = weights on disk + 10%.
    """

    name: str
    command: tuple[str, ...]  # default command; the desired state's args follow it
    build_args: Callable[[ServeContext], list[str]]
    env: dict[str, str] = field(default_factory=dict)
    health_path: str = "/health"
    memory_model: str = "fit"
    model_formats: tuple[str, ...] = ()  # weight formats it opens (ModelSpec.resolved_format); () = any
    api_key_file_flag: str | None = None  # flag taking a file of API keys it then demands; None: it takes none

    def __post_init__(self) -> None:
        if self.memory_model not in MEMORY_MODELS:
            raise ValueError(
                f"native runtime {self.name}: memory_model {self.memory_model!r} is not one of "
                f"{', '.join(MEMORY_MODELS)}"
            )
        if not self.command:
            raise ValueError(f"native runtime {self.name}: command is empty")


@dataclass(frozen=True)
class RuntimeMetrics:
    """The Prometheus series a runtime exports (None: it does not). SLOs need requests_total with
    errors_selector and/or errors_total (availability) and latency_histogram with its bucket bounds
    (latency); alerts and dashboards read the rest.

    Availability is errors / total, both counters: the failed requests are either a label selection of
    requests_total (errors_selector alone, vLLM) or a counter of their own (errors_total, optionally
    narrowed by errors_selector: TGI, SGLang). Pyrra's ratio indicator takes two selectors, which
    may name different metrics."""

    requests_total: str | None = None  # counter of finished requests: the availability ratio's total
    errors_selector: str | None = None  # label matchers selecting the failed ones (of errors_total when set)
    errors_total: str | None = None  # a separate counter of failed requests; None: they are among requests_total
    latency_histogram: str | None = None  # base name of the end-to-end latency histogram (seconds)
    latency_buckets: tuple[float, ...] = ()  # its bucket bounds: a latency SLO threshold must be one
    generated_tokens_total: str | None = None  # counter of generated tokens
    ttft_histogram: str | None = None  # base name of the time-to-first-token histogram (seconds)
    kv_cache_usage: str | None = None  # gauge, 1 = the KV cache is full
    running: str | None = None  # gauge of requests being served

    def __post_init__(self) -> None:
        if self.latency_buckets and (
            any(b <= 0 for b in self.latency_buckets) or list(self.latency_buckets) != sorted(set(self.latency_buckets))
        ):
            raise ValueError(f"latency_buckets of {self.latency_histogram} must be positive and strictly increasing")

    @property
    def availability(self) -> bool:
        return bool(self.requests_total and (self.errors_total or self.errors_selector))

    @property
    def latency(self) -> bool:
        return bool(self.latency_histogram and self.latency_buckets)


@dataclass(frozen=True)
class Runtime:
    name: str
    images: dict[str, str]  # vendor image flavour -> pinned image
    port: int
    health_path: str
    ready_path: str
    metrics_path: str | None
    queue_metric: str | None  # Prometheus gauge of waiting requests (KEDA signal)
    kv_cache_types: tuple[str, ...] | None  # values of kvCacheTypeK/V it knows; None = not checked (generic)
    build_command: Callable[[ServeContext], list[str]]
    build_args: Callable[[ServeContext], list[str]]
    build_env: Callable[[ServeContext], dict[str, str]] = lambda ctx: {}
    writable_dirs: tuple[str, ...] = ("/tmp",)
    native: NativeRun | None = None  # how the metal-agent runs it on metal hosts; None = no native build
    needs_image: bool = False  # the service must name the image (nothing in the entry describes a container)
    served_name: str | None = None  # the only model name it answers to, when it cannot be given one
    modes: tuple[str, ...] = ("chat", "embedding", "rerank")  # InferenceService modes it serves
    sharding_modes: tuple[str, ...] = ()  # how it splits a model over devices (layer/row, or tensor)
    moe_cpu_offload: bool = False  # can keep MoE expert weights in host RAM
    opt_in_flavours: dict[str, str] = field(default_factory=dict)  # flavour -> the flag that enables it
    startup_failure_threshold: int = 180  # x 10 s: large models load for many minutes
    metrics: RuntimeMetrics = field(default_factory=RuntimeMetrics)  # what its metrics_path exports

    def image_for(self, flavour: str) -> str | None:
        return self.images.get(flavour)

    def probes(self) -> dict[str, dict]:
        """Startup generous enough for model load; readiness gates traffic; liveness restarts hangs."""

        def get(path: str) -> dict:
            return {"httpGet": {"path": path, "port": "http"}}

        return {
            "startupProbe": {
                **get(self.health_path),
                "periodSeconds": 10,
                "timeoutSeconds": 5,
                "failureThreshold": self.startup_failure_threshold,
            },
            "readinessProbe": {**get(self.ready_path), "periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 3},
            "livenessProbe": {
                **get(self.health_path),
                "periodSeconds": 20,
                "timeoutSeconds": 10,
                "failureThreshold": 6,
            },
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
