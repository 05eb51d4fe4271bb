"""SiteSpec: one cluster (a datacenter, an edge site, a lab) with its rules and its hardware."""
from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from .base import SpecModel, check_country, check_dns_label, duplicates

API_GROUP = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
from .service import Vendor


class KubernetesConnection(SpecModel):
    """How `pulumi up` reaches the cluster; renderOnly writes YAML instead of applying."""

    kubeconfig: str | None = Field(None, description="Path or contents of a kubeconfig (kept a Pulumi secret); "
                                                     "default: ambient")
    context: str | None = None
    cluster: str | None = Field(None, description="A stable name for the cluster: the provider's clusterIdentifier "
                                                  "(a kubeconfig or context change is then an update, not a "
                                                  "replacement of every object) and how the offline check knows "
                                                  "two sites share a cluster. Default: the context, else the site name")
    protect: bool = Field(True, description="Protect namespaces and model caches from deletion and replacement "
                                            "(`pulumi state unprotect` to remove them on purpose)")
    render_only: bool = False
    render_dir: str = Field("rendered", description="With renderOnly: where pulumi-kubernetes writes YAML")

    @field_validator("cluster")
    @classmethod
    def _cluster(cls, v: str | None) -> str | None:
        if v is not None and not v:
            raise ValueError("cluster must not be empty (leave it out for the default)")
        return v


class RegistryMirror(SpecModel):
    """Rewrite images from `source` (a registry host, or "*" for every registry) to `mirror`.

    A host entry replaces the host (`ghcr.io/a/b:1` -> `mirror/a/b:1`); "*" prefixes the whole
    reference (`ghcr.io/a/b:1` -> `mirror/ghcr.io/a/b:1`), the layout of most proxy caches.
    """

    source: str = "*"
    mirror: str

    @field_validator("mirror")
    @classmethod
    def _mirror(cls, v: str) -> str:
        if "://" in v or v.endswith("/"):
            raise ValueError("mirror is a registry host[/path] without scheme or trailing '/' (e.g. registry.site.local/mirror)")
        return v


class NodeTaint(SpecModel):
    key: str
    value: str | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = "NoSchedule"


class AcceleratorPool(SpecModel):
    """A homogeneous group of nodes: what the capacity rule and the scheduler hints read."""

    name: str
    vendor: Vendor
    product: str | None = None
    memory_gi_b: float | None = Field(None, alias="memoryGiB", gt=0, description="Memory per device")
    devices_per_node: int = Field(1, ge=0)
    node_count: int = Field(1, ge=0)
    node_labels: dict[str, str] = Field(default_factory=dict)
    taints: tuple[NodeTaint, ...] = ()

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_dns_label(v, "pool name")


class MetalHost(SpecModel):
    """An Apple Silicon host run by the metal-agent (served outside Kubernetes' scheduler)."""

    name: str
    chip: str = Field(description='e.g. "M3 Ultra"')
    unified_memory_gi_b: float = Field(alias="unifiedMemoryGiB", gt=0)
    usable_fraction: float = Field(0.75, gt=0, le=1, description="Share of unified memory the GPU may wire")
    address: str = Field(description="IP the host's runtimes listen on (EndpointSlice address)")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_dns_label(v, "metal host name")


class NetworkRules(SpecModel):
    """Site-wide network rules. Default-deny egress is on for air-gapped sites."""

    default_deny_egress: bool | None = Field(None, description="Default: true when airGapped")
    egress_allow_cidrs: tuple[str, ...] = Field((), alias="egressAllowCIDRs", description="e.g. the model store")
    dns_namespace: str = "kube-system"


class Operators(SpecModel):
    """Cluster add-ons the site installs as Helm charts (GPU operators per vendor in use, KEDA)."""

    gpu_operators: bool = Field(False, description="Install each vendor's operator for the pools declared")
    keda: bool = False
    chart_registry: str | None = Field(None, description="OCI registry holding mirrored charts (air-gapped)")


class Monitoring(SpecModel):
    prometheus_url: str = "http://prometheus-operated.monitoring.svc:9090"
    namespace: str = "monitoring"


class SiteSpec(SpecModel):
    """A site: where it is (jurisdiction matters for data residency), how to reach it, what it has."""

    name: str
    region: str | None = None
    jurisdiction: str = Field(description="ISO 3166-1 alpha-2 country code, e.g. DE")
    namespace: str = "llmkube"
    kubernetes: KubernetesConnection = KubernetesConnection()
    air_gapped: bool = False
    registry_mirrors: tuple[RegistryMirror, ...] = ()
    hf_endpoint: str | None = Field(None, description="Internal Hugging Face mirror (HF_ENDPOINT)")
    model_stores: tuple[str, ...] = Field((), description="Internal hosts serving model files (http/s3)")
    tools_image: str = Field("ghcr.io/llmkube/llmkube-iac:0.1.0", description="Image with `llmkube-iac fetch`")
    storage_class_name: str | None = None
    accelerators: tuple[AcceleratorPool, ...] = ()
    metal_hosts: tuple[MetalHost, ...] = ()
    network: NetworkRules = NetworkRules()
    operators: Operators = Operators()
    monitoring: Monitoring = Monitoring()
    cert_issuer: str | None = Field(None, description="cert-manager ClusterIssuer for router TLS")
    cluster_provides: tuple[str, ...] = Field(
        (), description="API groups whose CRDs the cluster already serves without an add-on of this site, e.g. "
                        "[monitoring.coreos.com, cert-manager.io] when the Prometheus operator and cert-manager are "
                        "installed; every custom resource the plan emits needs its group here or from an add-on")

    @field_validator("cluster_provides")
    @classmethod
    def _groups(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for group in v:
            if not API_GROUP.match(group) or "." not in group:
                raise ValueError(f"clusterProvides: {group!r} is not an API group (a DNS name such as "
                                 "monitoring.coreos.com; built-in groups need no declaration)")
        dupes = duplicates(v)
        if dupes:
            raise ValueError(f"clusterProvides lists {', '.join(dupes)} more than once")
        return v

    @field_validator("name", "namespace")
    @classmethod
    def _names(cls, v: str, info) -> str:
        return check_dns_label(v, info.field_name)

    @field_validator("jurisdiction")
    @classmethod
    def _country(cls, v: str) -> str:
        return check_country(v)

    @model_validator(mode="after")
    def _air_gap(self) -> "SiteSpec":
        names = [p.name for p in self.accelerators]
        dupes = duplicates(names)
        if dupes:
            raise ValueError(f"accelerator pool names must be unique: {', '.join(dupes)}")
        if self.air_gapped and not self.registry_mirrors:
            raise ValueError("an airGapped site needs registryMirrors: images cannot be pulled from the internet")
        return self

    @property
    def cluster_name(self) -> str:
        """The provider's clusterIdentifier and the offline check's cluster identity."""
        return self.kubernetes.cluster or self.kubernetes.context or self.name

    @property
    def deny_egress(self) -> bool:
        return self.air_gapped if self.network.default_deny_egress is None else self.network.default_deny_egress

    def pools_for(self, vendor: str) -> list[AcceleratorPool]:
        return [p for p in self.accelerators if p.vendor == vendor]
