"""The sections of a site: cluster connection, registry mirrors, accelerator pools, metal hosts, network
rules, add-on switches and monitoring.

Why apart from site.py: each section is a self-contained model with its own validation, read on its own by
planners and rules (pools by the scheduler and capacity rule, metal hosts by the metal planner, mirrors by
image rewriting); site.py keeps SiteSpec itself and the checks that span sections. The public names are
re-exported by spec/__init__.py and site.py.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from .base import SpecModel, check_dns_label
from .economics import DeviceEconomics
from .k8s import (
    INT32_MAX,
    Cidr,
    Dns1123Label,
    LabelValue,
    QualifiedName,
    check_host,
    check_image,
    raise_if,
)
from .model import MAX_GIB
from .service import Vendor


class KubernetesConnection(SpecModel):
    """How `pulumi up` reaches the cluster; renderOnly writes YAML instead of applying."""

    kubeconfig: str | None = Field(
        None,
        description="Path to (or contents of) a kubeconfig for the site's cluster, kept a Pulumi secret in "
        "state; unset: the ambient kubeconfig",
    )
    context: str | None = Field(None, description="kubeconfig context to use; unset: the kubeconfig's current context")
    cluster: str | None = Field(
        None,
        description="A stable name for the cluster: the provider's clusterIdentifier (a kubeconfig or context "
        "change is then an update, not a replacement of every object) and how the offline check "
        "knows two sites share a cluster; unset: the context, else the site name",
    )
    protect: bool = Field(
        True,
        description="Protect namespaces and model caches from deletion and replacement "
        "(`pulumi state unprotect` removes them on purpose)",
    )
    render_only: bool = Field(
        False, description="Write the manifests as YAML files under renderDir instead of applying them to a cluster"
    )
    render_dir: str = Field(
        "rendered", description="With renderOnly: where pulumi-kubernetes writes the YAML (`<renderDir>/<site>/`)"
    )

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

    source: str = Field(
        "*", description='Registry host whose images are rewritten (e.g. ghcr.io, docker.io), or "*" for all'
    )
    mirror: str = Field(
        description='Registry host[/path] serving the copies, without scheme or trailing "/" '
        "(e.g. registry.site.local/mirror)"
    )

    @field_validator("mirror")
    @classmethod
    def _mirror(cls, v: str) -> str:
        if "://" in v or v.endswith("/"):
            raise ValueError(
                "mirror is a registry host[/path] without scheme or trailing '/' (e.g. registry.site.local/mirror)"
            )
        raise_if(_registry(v))
        return v

    @field_validator("source")
    @classmethod
    def _source(cls, v: str) -> str:
        if v != "*":
            raise_if(_registry(v))
        return v


def _registry(value: str) -> str | None:
    """A registry host (optionally :port) with an optional path, as image references start."""
    reason = check_image(value)
    if reason:
        return reason
    host, _, path = value.partition("/")
    name, _, port = host.partition(":")
    if port and not (port.isdigit() and 0 < int(port) <= 65535):
        return f"{value[:60]!r}: the registry port must be 1-65535"
    if check_host(name) or (path and not re.match(r"^[a-z0-9][a-z0-9._/-]*\Z", path)) or "//" in path:
        return f"{value[:60]!r} is not a registry host[:port][/path] (e.g. registry.site.local:5000/mirror)"
    return None


class NodeTaint(SpecModel):
    """A taint the pool's nodes carry: services placed on the pool get the matching toleration."""

    key: QualifiedName = Field(description="Taint key")
    value: LabelValue | None = Field(None, description="Taint value; unset: tolerated with operator Exists (any value)")
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = Field("NoSchedule", description="Taint effect")

    def toleration(self) -> dict:
        """The toleration a pod needs to run on the pool's nodes."""
        tol = {"key": self.key, "operator": "Equal" if self.value else "Exists", "effect": self.effect}
        if self.value:
            tol["value"] = self.value
        return tol


class AcceleratorPool(SpecModel):
    """A homogeneous group of nodes: what the capacity rule and the scheduler hints read."""

    name: str = Field(description="Pool name (DNS label, unique within the site)")
    vendor: Vendor = Field(description="Vendor of the pool's accelerators (cpu for CPU-only nodes)")
    product: str | None = Field(
        None,
        description='Device model, e.g. "NVIDIA H100 80GB"; a service\'s accelerator.product selects pools by '
        "substring (case, spaces and dashes ignored)",
    )
    memory_gi_b: float | None = Field(
        None,
        alias="memoryGiB",
        gt=0,
        le=MAX_GIB,
        description="Memory per device in GiB: matched against accelerator.minMemoryGiB, read by the gpu-fit rule",
    )
    devices_per_node: int = Field(
        1, ge=0, le=1024, description="Devices per node; services needing more per replica do not match the pool"
    )
    node_count: int = Field(
        1,
        ge=0,
        le=INT32_MAX,
        description="Nodes in the pool; devicesPerNode x nodeCount is the inventory the capacity rule checks",
    )
    node_labels: dict[QualifiedName, LabelValue] = Field(
        default_factory=dict, description="Labels of the pool's nodes, added to the node selector of services on it"
    )
    taints: tuple[NodeTaint, ...] = Field((), description="Taints of the pool's nodes; services on it tolerate them")
    economics: DeviceEconomics | None = Field(
        None, description="Price, amortisation and power of one device: with site.economics, the cost per token"
    )

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_dns_label(v, "pool name")


class MetalHost(SpecModel):
    """An Apple Silicon host run by the metal-agent (served outside Kubernetes' scheduler)."""

    name: str = Field(
        description="Host name (DNS label): the agent's --host; its desired state is ConfigMap <name>-metal-desired"
    )
    chip: str = Field(description='Apple Silicon chip, e.g. "M3 Ultra" (named in gpu-fit reports)')
    unified_memory_gi_b: float = Field(
        alias="unifiedMemoryGiB", gt=0, le=MAX_GIB, description="Unified memory of the host in GiB"
    )
    usable_fraction: float = Field(
        0.75,
        gt=0,
        le=1,
        description="Share of unified memory the GPU may wire; the agent's memory budget is this x unifiedMemoryGiB",
    )
    address: str = Field(
        description="IP address (IPv4 or IPv6) the host's runtimes listen on: EndpointSlices advertise it, routers "
        "may egress to it"
    )
    economics: DeviceEconomics | None = Field(
        None, description="Price, amortisation and power of the host: with site.economics, the cost per token"
    )

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_dns_label(v, "metal host name")

    @field_validator("address")
    @classmethod
    def _address(cls, v: str) -> str:
        try:
            return str(ipaddress.ip_address(v))
        except ValueError:
            pass
        hint = "" if check_host(v) else " (a DNS name is not enough: resolve it)"
        raise ValueError(
            f"{v[:60]!r} is not an IP address{hint}: EndpointSlices advertise the host by address and "
            "routers allow egress to it as an IP block (e.g. 192.168.10.21 or fd00::21)"
        )

    @property
    def cidr(self) -> str:
        """The host as a one-address CIDR (/32 or /128), for NetworkPolicy ipBlocks."""
        return f"{self.address}/{ipaddress.ip_address(self.address).max_prefixlen}"


class NetworkRules(SpecModel):
    """Site-wide network rules. Default-deny egress is on for air-gapped sites."""

    default_deny_egress: bool | None = Field(
        None,
        description="Render a default-deny egress NetworkPolicy (DNS, the namespace itself and egressAllowCIDRs "
        "stay reachable); unset: on when airGapped",
    )
    egress_allow_cidrs: tuple[Cidr, ...] = Field(
        (), alias="egressAllowCIDRs", description="CIDRs pods may still reach under default-deny, e.g. the model store"
    )
    dns_namespace: Dns1123Label = Field(
        "kube-system", description="Namespace of the cluster DNS that egress rules allow (port 53)"
    )
    peer_cidrs: tuple[Cidr, ...] = Field(
        (),
        alias="peerCIDRs",
        description="Ranges of other sites' federation endpoints this site's routers may reach (HTTPS, router "
        "pods only, unlike egressAllowCIDRs); at an air-gapped site a router federates only into these",
    )


class Operators(SpecModel):
    """Cluster add-ons the site installs as Helm charts (GPU operators per vendor in use, KEDA)."""

    gpu_operators: bool = Field(
        False, description="Install the pinned device-plugin/operator chart of each vendor with a declared pool"
    )
    keda: bool = Field(False, description="Install the pinned KEDA chart (needed by autoscaling on the queue signal)")
    chart_registry: str | None = Field(
        None,
        description="OCI registry host[/path] holding mirrored charts: charts are pulled as "
        "oci://<chartRegistry>/<chart> (air-gapped sites)",
    )

    @field_validator("chart_registry")
    @classmethod
    def _registry(cls, v: str | None) -> str | None:
        if v is not None:
            raise_if(_registry(v))
        return v


def check_url(value: str) -> str | None:
    """An absolute http(s) URL with a valid host and port, without spaces or control characters."""
    parts = urlsplit(value) if check_image(value) is None else None
    try:
        port = parts.port if parts else None
    except ValueError:
        port = -1
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or port == -1
        or check_host(parts.hostname)
    ):
        return f"{value[:60]!r} is not an http(s) URL with a valid host and port (e.g. http://prometheus.monitoring.svc:9090)"
    return None


class Monitoring(SpecModel):
    """Where the site's Prometheus runs: KEDA queries it, router NetworkPolicies admit its scrapes."""

    prometheus_url: str = Field(
        "http://prometheus-operated.monitoring.svc:9090",
        description="Prometheus URL KEDA ScaledObjects query for the runtimes' queue metrics",
    )
    namespace: Dns1123Label = Field(
        "monitoring", description="Namespace of Prometheus, admitted to the routers' metrics port"
    )
    prometheus_pod_labels: dict[QualifiedName, LabelValue] = Field(
        {"app.kubernetes.io/name": "prometheus"},
        description="Labels of the Prometheus pods: only pods carrying all of them (in the monitoring namespace, or a "
        "service's network.metricsNamespaces) may reach a metrics port; the default is the label "
        "prometheus-operator puts on its Prometheus pods; {} admits every pod of those namespaces",
    )
    alerts: bool | None = Field(
        None,
        description="Render the site's llmkube PrometheusRule (runtime down, queue saturation, KV-cache "
        "pressure, router fail-closed rate) and Grafana dashboard ConfigMap; unset: on when "
        "addons.monitoring installs the Prometheus operator stack",
    )

    @field_validator("prometheus_url")
    @classmethod
    def _url(cls, v: str) -> str:
        raise_if(check_url(v))
        return v
