"""RouterSpec: one governed OpenAI endpoint over local InferenceServices, other sites' Routers and
external providers.

The router is split into trust zones (docs/architecture.md): the *sovereign* zone only ever
holds in-site backends and other sites' sovereign zones (federation, spec/federation.py); the
*external* zone holds the in-site backends and external providers. Classification
rules, team limits and budgets are declared here and compiled into LiteLLM config by
`plan/router_config.py`.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from ..router_hooks.llmkube_policy import ROUTES
from .base import SecretKeyRef, SpecModel, check_country, check_dns_label, duplicates
from .federation import FederationSpec, PeerBackend
from .fleet_ops import SloSpec
from .k8s import INT32_MAX, Dns1123Label, Quantity, Subdomain
from .service import CLASSIFICATION_ORDER, Classification

Zone = Literal["sovereign", "external"]
Provider = Literal["openai", "anthropic", "gemini", "openai-compatible"]
Strategy = Literal["simple-shuffle", "latency-based-routing", "least-busy", "usage-based-routing-v2"]
# Provider pass-through and management routes stay refused; the front serves only paths of its
# route table (llmkube_policy.ROUTES), each with its own body allowlist. Default: all of them.
DEFAULT_ALLOWED_PATHS: tuple[str, ...] = tuple(ROUTES)


def class_rank(classification: str) -> int:
    """Order of data classes: public < internal < confidential < restricted."""
    return CLASSIFICATION_ORDER.index(classification)


class LocalBackend(SpecModel):
    """An InferenceService of this site (in the site's namespace, by name)."""

    name: str = Field(description="Backend name (DNS label) model groups list")
    service: str = Field(description="Name of an InferenceService in the same stack")
    model: str | None = Field(None, description="Model name the service answers to; default: its served name")
    rpm: int | None = Field(None, gt=0, description="Per-deployment requests/minute used by the router")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_dns_label(v, "backend name")


class ExternalBackend(SpecModel):
    """A provider outside the site. Where it is matters: region and jurisdiction are required."""

    name: str = Field(description="Backend name (DNS label) model groups list")
    provider: Provider = Field(description="Provider API; openai-compatible needs apiBase")
    model: str = Field(description='Provider model id, e.g. "gpt-4o-mini"')
    api_base: str | None = Field(None, description="Required for openai-compatible; default: the provider's API")
    region: str = Field(description="Provider region that processes the data, e.g. eu-west-1 (audit lines carry it)")
    jurisdiction: str = Field(description="ISO 3166-1 alpha-2 code of where the provider processes data")
    api_key_secret: SecretKeyRef = Field(
        description="Secret key holding the provider API key (mounted in the external zone only)"
    )
    max_classification: Classification = Field("public", description="Highest class it may receive")
    max_budget_dollars: float | None = Field(None, gt=0, description="Per-deployment spend cap (in memory, per pod)")
    budget_period: str = Field(
        "30d", pattern=r"^[0-9]+[smhd]$", description="Period of maxBudgetDollars: a number and s, m, h or d"
    )
    rpm: int | None = Field(None, gt=0, description="Per-deployment requests/minute used by the router")
    output_dollars_per_million: float | None = Field(
        None,
        gt=0,
        description="The provider's price per 1M output tokens in US dollars: the report shows the "
        "break-even of each local service against it",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_dns_label(v, "backend name")

    @field_validator("jurisdiction")
    @classmethod
    def _country(cls, v: str) -> str:
        return check_country(v)

    @field_validator("api_base")
    @classmethod
    def _base(cls, v: str | None) -> str | None:
        if v is not None and (not re.match(r"^https?://[^/\s]+", v) or re.search(r"[\s\x00-\x1f\x7f]", v)):
            raise ValueError("apiBase must be an absolute http(s) URL such as https://api.example.com/v1")
        return v.rstrip("/") if v else v

    @model_validator(mode="after")
    def _compatible(self) -> ExternalBackend:
        if self.provider == "openai-compatible" and not self.api_base:
            raise ValueError("provider openai-compatible needs apiBase (the provider's OpenAI-compatible URL)")
        return self


def _backend_tag(value: object) -> str:
    if isinstance(value, dict):
        return "local" if "service" in value else "peer" if "site" in value else "external"
    if isinstance(value, LocalBackend):
        return "local"
    return "peer" if isinstance(value, PeerBackend) else "external"


Backend = Annotated[
    Annotated[LocalBackend, Tag("local")]
    | Annotated[PeerBackend, Tag("peer")]
    | Annotated[ExternalBackend, Tag("external")],
    Discriminator(_backend_tag),
]


class ModelGroup(SpecModel):
    """What clients ask for (`model: chat`): a set of backends, then groups to fall back to."""

    name: str = Field(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$",
        description="What clients send as `model`",
    )
    backends: tuple[str, ...] = Field(
        min_length=1, description="Names of the backends serving the group (chosen by the router's strategy)"
    )
    fallbacks: tuple[str, ...] = Field(
        (), description="Other model groups tried in order when the group fails (only those the zone holds)"
    )


class TeamSpec(SpecModel):
    """A client team: its key (from a Secret), limits, zones, models and classification ceiling."""

    name: str = Field(description="Team name (DNS label): the key alias in audit lines and metrics")
    key_secret: SecretKeyRef = Field(description="Secret key holding the team's API key")
    rpm: int | None = Field(None, gt=0, description="Requests per minute, per router pod")
    tpm: int | None = Field(None, gt=0, description="Tokens per minute, per router pod")
    zones: tuple[Zone, ...] = Field(
        ("sovereign",), description="Zones the team's key works in (external needs a router with an external zone)"
    )
    models: tuple[str, ...] = Field((), description="Model groups it may call; empty: all")
    max_classification: Classification = Field("restricted", description="Highest data class the team may send")
    classification: Classification | None = Field(None, description="Bind every request of the team to this class")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_dns_label(v, "team name")

    @model_validator(mode="after")
    def _bound(self) -> TeamSpec:
        if self.classification and class_rank(self.classification) > class_rank(self.max_classification):
            raise ValueError(
                f"classification {self.classification} exceeds maxClassification {self.max_classification}"
            )
        return self


class ProviderBudget(SpecModel):
    """Dollar cap per provider (DB-less: per pod, in memory). Per-team dollars need LiteLLM's database."""

    provider: Provider = Field(description="Provider the cap applies to")
    dollars: float = Field(gt=0, description="Spend cap in US dollars per period")
    period: str = Field("30d", pattern=r"^[0-9]+[smhd]$", description="Budget period: a number and s, m, h or d")


class AuditSpec(SpecModel):
    """One JSON line per request to stdout, optionally also to a file on a PersistentVolumeClaim."""

    stdout: bool = Field(True, description="Write audit lines to the proxy's stdout")
    volume_claim: Subdomain | None = Field(None, description="PVC mounted at /var/log/llmkube")
    file: str = Field(
        "audit.jsonl",
        pattern=r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}$",
        description="File name on volumeClaim the audit lines are appended to (a name, not a path)",
    )

    @model_validator(mode="after")
    def _somewhere(self) -> AuditSpec:
        if not self.stdout and not self.volume_claim:
            raise ValueError("audit needs a sink: keep stdout: true or set volumeClaim")
        return self


class RouterTimeouts(SpecModel):
    """Timeouts and retries of the proxy; the timeout-nesting rule checks them against clients and runtimes."""

    request_seconds: float = Field(600, gt=0, description="Timeout of one upstream request, in seconds")
    stream_seconds: float | None = Field(
        None, gt=0, description="Timeout of a streaming request, in seconds; default: requestSeconds"
    )
    num_retries: int = Field(1, ge=0, le=10, description="Retries of a failed request")
    allowed_fails: int = Field(1, ge=0, description="Failures before a deployment is cooled down")
    cooldown_seconds: float = Field(30, ge=0, description="Seconds a cooled-down deployment gets no requests")


class RouterScaling(SpecModel):
    """CPU autoscaling of each zone's proxy (a HorizontalPodAutoscaler per zone)."""

    min_replicas: int = Field(2, ge=1, le=INT32_MAX, description="Fewest proxy replicas per zone")
    max_replicas: int = Field(ge=1, le=INT32_MAX, description="Most proxy replicas per zone")
    cpu_target: int = Field(70, gt=0, le=100, description="Target CPU utilisation in percent")

    @model_validator(mode="after")
    def _range(self) -> RouterScaling:
        if self.min_replicas > self.max_replicas:
            raise ValueError(f"minReplicas ({self.min_replicas}) exceeds maxReplicas ({self.max_replicas})")
        return self


class RouterSpec(SpecModel):
    """One router; the sovereign zone is the default endpoint, `<name>-external` the other."""

    name: str = Field(
        description="Router name (DNS label, at most 54 characters): the sovereign zone's Service; the external "
        "zone's is <name>-external"
    )
    backends: tuple[Backend, ...] = Field(
        min_length=1,
        description="Local InferenceServices (with `service`), other sites' Routers (with `site`) and external "
        "providers (with `provider`)",
    )
    model_groups: tuple[ModelGroup, ...] = Field(
        min_length=1, description="The model names clients ask for, each served by some backends"
    )
    strategy: Strategy = Field("simple-shuffle", description="LiteLLM routing strategy among a group's backends")
    timeouts: RouterTimeouts = Field(RouterTimeouts(), description="Request timeouts and retries")
    teams: tuple[TeamSpec, ...] = Field((), description="Client teams, each with its own key, limits and zones")
    master_key_secret: SecretKeyRef = Field(description="Secret key holding the proxy's master key")
    provider_budgets: tuple[ProviderBudget, ...] = Field(
        (), description="Dollar caps per provider (external zone; per pod, in memory)"
    )
    audit: AuditSpec = Field(AuditSpec(), description="Where the per-request audit lines go")
    external_zone: bool | None = Field(None, description="Default: true when an external backend is declared")
    replicas: int = Field(2, ge=1, le=INT32_MAX, description="Proxy replicas per zone when autoscaling is unset")
    autoscaling: RouterScaling | None = Field(None, description="CPU autoscaling per zone instead of fixed replicas")
    port: int = Field(4000, ge=1024, le=65535, description="Port of the OpenAI endpoint (Service and container)")
    cpu: Quantity = Field("500m", description="CPU request of each proxy pod (its limit is twice this)")
    memory: Quantity = Field("1Gi", description="Memory request and limit of each proxy pod")
    client_namespaces: tuple[Dns1123Label, ...] = Field((), description="Namespaces allowed to call; empty: any")
    allowed_paths: tuple[str, ...] = Field(
        DEFAULT_ALLOWED_PATHS,
        description="Request paths the proxy serves; provider pass-through routes may not be added",
    )
    slo: SloSpec | None = Field(
        None, description="Service level objectives of the router (Pyrra); unset: the defaults where Pyrra is installed"
    )
    federation: FederationSpec | None = Field(
        None, description="Expose the sovereign zone to other sites' Routers (HTTPS LoadBalancer, needs certIssuer)"
    )
    peer_ca_secret: SecretKeyRef | None = Field(
        None,
        description="Secret key holding the PEM CA bundle that signed the peers' federation certificates; unset: "
        "the image's public trust store",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        check_dns_label(v, "router name")
        if len(v) > 54:
            raise ValueError("router name must be at most 54 characters (the external zone adds '-external')")
        return v

    @field_validator("allowed_paths")
    @classmethod
    def _paths(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [p for p in v if not p.startswith("/") or p.rstrip("/").split("/")[1] in _PASSTHROUGH]
        if bad:
            raise ValueError(f"allowedPaths may not include provider pass-through routes: {', '.join(bad)}")
        unknown = [p for p in v if p not in ROUTES]
        if unknown:
            raise ValueError(
                f"allowedPaths {', '.join(unknown)} are not routes the router can check; "
                f"choose from {', '.join(ROUTES)}"
            )
        return v

    @model_validator(mode="after")
    def _references(self) -> RouterSpec:
        problems = []
        names = [b.name for b in self.backends]
        for dup in duplicates(names):
            problems.append(f"duplicate backend name {dup!r}")
        groups = [g.name for g in self.model_groups]
        for dup in duplicates(groups):
            problems.append(f"duplicate model group {dup!r}")
        for i, g in enumerate(self.model_groups):
            for b in g.backends:
                if b not in names:
                    problems.append(f"modelGroups[{i}].backends: unknown backend {b!r} (declared: {', '.join(names)})")
            for f in g.fallbacks:
                if f not in groups or f == g.name:
                    problems.append(f"modelGroups[{i}].fallbacks: {f!r} is not another declared model group")
        teams = [t.name for t in self.teams]
        for dup in duplicates(teams):
            problems.append(f"duplicate team name {dup!r}")
        for i, t in enumerate(self.teams):
            for m in t.models:
                if m not in groups:
                    problems.append(f"teams[{i}].models: unknown model group {m!r}")
            if "external" in t.zones and not self.has_external_zone:
                problems.append(f"teams[{i}].zones: this router has no external zone")
        if self.external_zone is False and self.external_backends:
            problems.append("externalZone is false but external backends are declared: remove them or the flag")
        if self.peer_ca_secret and not self.peer_backends:
            problems.append("peerCaSecret is set but no backend is another site's Router: remove it")
        problems += self._credential_problems()
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _credential_problems(self) -> list[str]:
        """A key this router sends out (to a provider, to a peer router) is never one clients use to call it:
        the peer or provider would hold the router's master key or a team's key."""
        inbound = {(self.master_key_secret.name, self.master_key_secret.key): "masterKeySecret"}
        for t in self.teams:
            inbound.setdefault((t.key_secret.name, t.key_secret.key), f"the key of team {t.name}")
        providers = {(b.api_key_secret.name, b.api_key_secret.key) for b in self.external_backends}
        out = []
        for i, b in enumerate(self.backends):
            ref = b.key_secret if isinstance(b, PeerBackend) else getattr(b, "api_key_secret", None)
            if ref is None:
                continue
            field = "keySecret" if isinstance(b, PeerBackend) else "apiKeySecret"
            key = (ref.name, ref.key)
            if key in inbound:
                out.append(
                    f"backends[{i}].{field}: {ref.name}/{ref.key} is {inbound[key]}: it would be sent to {b.name}"
                )
            elif isinstance(b, PeerBackend) and key in providers:
                out.append(
                    f"backends[{i}].{field}: {ref.name}/{ref.key} is a provider's key: it would be sent to a peer"
                )
        return out

    @property
    def external_backends(self) -> list[ExternalBackend]:
        return [b for b in self.backends if isinstance(b, ExternalBackend)]

    @property
    def local_backends(self) -> list[LocalBackend]:
        return [b for b in self.backends if isinstance(b, LocalBackend)]

    @property
    def peer_backends(self) -> list[PeerBackend]:
        """Other sites' Routers: served by the sovereign zone only (federation joins sovereign zones)."""
        return [b for b in self.backends if isinstance(b, PeerBackend)]

    @property
    def has_external_zone(self) -> bool:
        return bool(self.external_backends) if self.external_zone is None else self.external_zone

    @property
    def external_name(self) -> str:
        return f"{self.name}-external"

    def backend(self, name: str) -> LocalBackend | PeerBackend | ExternalBackend:
        return next(b for b in self.backends if b.name == name)


# First path segments of LiteLLM's provider pass-through routes (they use the proxy's own credentials).
_PASSTHROUGH = frozenset(
    {
        "openai",
        "anthropic",
        "gemini",
        "vertex_ai",
        "vertex-ai",
        "bedrock",
        "cohere",
        "mistral",
        "azure",
        "vllm",
        "langfuse",
        "assemblyai",
        "eu.assemblyai",
        "openai_passthrough",
        "sagemaker",
        "llm_passthrough",
        "milvus",
    }
)
