"""The metal-agent's desired state: what the planner writes into a host's ConfigMap.

The planner and the agent read this one model, so the ConfigMap is a typed contract rather than
an ad-hoc JSON blob: a planner change that the agent would misread fails validation on both sides.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import Field, field_validator, model_validator

from .. import runtimes  # pure table; read at validation time, like the service spec's runtime names
from .base import SecretKeyRef, SpecModel, TableChoice, canonical_json, check_dns_label, short_digest
from .priority import PRIORITY_RANK

if TYPE_CHECKING:  # pragma: no cover
    from .service import InferenceServiceSpec

# A process name from the runtime registry's native entries, not a registry name: it is what the
# agent runs and what its `--runtime NAME=COMMAND` override keys on.
NativeName = Annotated[str, TableChoice(runtimes.native_runtime, lambda: list(runtimes.native_runtimes()))]
DESIRED_STATE_KEY = "desired-state.json"  # ConfigMap data key holding the JSON below
VERSION_KEY = "version"  # ConfigMap data key holding DesiredState.version_hash()
AGENT = "llmkube-metal-agent"
STATUS_ANNOTATION = "llmkube.dev/agent-status"  # on the host's Lease: per-service phase and reason (JSON)


def config_map_name(host: str) -> str:
    """The host's desired-state ConfigMap (planner writes, agent watches)."""
    return f"{host}-metal-desired"


def lease_name(host: str) -> str:
    """The host's heartbeat Lease; the agent's status rides on it as an annotation."""
    return f"{host}-metal-agent"


def slice_name(service: str, host: str) -> str:
    """The EndpointSlice an agent updates for one service (Pulumi creates it; its name lets RBAC name it)."""
    return f"{service}-{host}"


def api_key_secret(service: InferenceServiceSpec) -> SecretKeyRef:
    """The Secret key holding a metal service's API key: its endpoint.apiKeySecret, else <service>-api-key."""
    return service.endpoint.api_key_secret or SecretKeyRef(name=f"{service.name}-api-key", key="api-key")


class MetalServiceState(SpecModel):
    """One service a host must run: enough to fetch, size, spawn and register it without the stack."""

    name: str = Field(description="Service name; its EndpointSlice on this host is <service>-<host>")
    source: str = Field(description="Model source (hf://, https://, s3://, file://)")
    sha256: str | None = Field(None, description="Expected SHA-256 of the weights; the agent refuses a mismatch")
    cache_key: str = Field(description="Directory under the agent's cache where the weights live")
    runtime: NativeName = Field(description="Native process to run (the runtime registry's native name)")
    args: tuple[str, ...] = Field(
        (),
        description="Runtime arguments; {model}, {host}, {port} and {api_key_file} (the file the agent writes "
        "the API key to) are substituted",
    )
    api_key_secret: SecretKeyRef | None = Field(
        None,
        description="Secret key holding the API key the runtime demands (the router sends it); the agent "
        "reads it and writes it to a file only it and the runtime read; unset: the runtime "
        "takes no key and only the bind address and the host firewall protect it",
    )
    port: int = Field(ge=1, le=65535, description="Port the runtime listens on (the service's endpoint.port)")
    health_path: str = Field("/health", pattern=r"^/", description="GET path answering 200 once it serves")
    memory_estimate_bytes: int | None = Field(None, ge=0, description="Planner-side estimate, if known")
    priority: int = Field(
        PRIORITY_RANK["normal"],
        ge=min(PRIORITY_RANK.values()),
        le=max(PRIORITY_RANK.values()),
        description="Eviction order: lowest first (batch=0 .. critical=4)",
    )
    model: dict = Field(default_factory=dict, description="The ModelSpec (config form), for the fit estimator")
    service: dict = Field(default_factory=dict, description="The InferenceServiceSpec (config form)")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_dns_label(v, "services[].name")

    @field_validator("cache_key")
    @classmethod
    def _cache_key(cls, v: str) -> str:
        if not v or v.startswith("/") or ".." in v.split("/"):
            raise ValueError("cacheKey must be a relative path without '..' (it is joined to the agent cache dir)")
        return v

    def version_hash(self) -> str:
        """Changes exactly when the process must be respawned (the agent compares it per service)."""
        return _digest(self.to_config())


class DesiredState(SpecModel):
    """Everything one host's agent must converge to; `version` lets both sides spot a stale copy."""

    host: str = Field(description="Metal host name (the agent's --host)")
    address: str = Field(description="IP the runtimes bind to and the EndpointSlices advertise")
    memory_budget_bytes: int = Field(ge=0, description="usableFraction x unified memory")
    namespace: str = Field(description="Namespace of the ConfigMap, the Lease and the EndpointSlices")
    lease_name: str = Field(description="The host's heartbeat Lease, which also carries the agent's status")
    services: tuple[MetalServiceState, ...] = Field(
        (), description="Services the host runs (names and ports unique per host)"
    )

    @model_validator(mode="after")
    def _unique(self) -> DesiredState:
        names = [s.name for s in self.services]
        ports = [s.port for s in self.services]
        if len(set(names)) != len(names):
            raise ValueError("services[].name must be unique per host")
        if len(set(ports)) != len(ports):
            raise ValueError("services[].port must be unique per host: two runtimes cannot bind one port")
        return self

    def version_hash(self) -> str:
        return _digest(self.to_config())

    def to_json(self) -> str:
        return canonical_json(self.to_config())


def _digest(data: dict) -> str:
    return short_digest(canonical_json(data))
