"""SiteSpec: one cluster (a datacenter, an edge site, a lab) with its rules and its hardware."""

from __future__ import annotations

import ipaddress
import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from .base import SpecModel, check_country, check_dns_label, duplicates
from .economics import DeviceEconomics, SiteEconomics
from .fleet_ops import AddOns
from .k8s import (
    INT32_MAX,
    Cidr,
    Dns1123Label,
    Image,
    LabelValue,
    QualifiedName,
    Subdomain,
    check_host,
    check_image,
    raise_if,
)
from .model import MAX_GIB
from .service import Vendor

API_GROUP = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


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
    if check_host(name) or (path and not re.match(r"^[a-z0-9][a-z0-9._/-]*$", path)) or "//" in path:
        return f"{value[:60]!r} is not a registry host[:port][/path] (e.g. registry.site.local:5000/mirror)"
    return None


class NodeTaint(SpecModel):
    """A taint the pool's nodes carry: services placed on the pool get the matching toleration."""

    key: QualifiedName = Field(description="Taint key")
    value: LabelValue | None = Field(None, description="Taint value; unset: tolerated with operator Exists (any value)")
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = Field("NoSchedule", description="Taint effect")


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


class SiteSpec(SpecModel):
    """A site: where it is (jurisdiction matters for data residency), how to reach it, what it has."""

    name: str = Field(
        description="Site name (DNS label): objects are labelled llmkube.dev/site=<name>; renders go to <out>/<name>/"
    )
    region: str | None = Field(None, description="Free-form region, e.g. eu-central (router audit lines carry it)")
    jurisdiction: str = Field(
        description="ISO 3166-1 alpha-2 country code where the site processes data, e.g. DE (data-residency reads it)"
    )
    namespace: str = Field("llmkube", description="Namespace of the site's objects (Pod Security restricted enforced)")
    kubernetes: KubernetesConnection = Field(KubernetesConnection(), description="How `pulumi up` reaches the cluster")
    air_gapped: bool = Field(
        False,
        description="No internet: needs registryMirrors, turns default-deny egress on, and the airgap-* rules "
        "(and a mandatory image-pinning) apply",
    )
    registry_mirrors: tuple[RegistryMirror, ...] = Field(
        (), description='Every image the site runs is rewritten to these mirrors (a host entry wins over "*")'
    )
    hf_endpoint: str | None = Field(
        None,
        description="URL of an internal Hugging Face mirror: download Jobs get HF_ENDPOINT, plan time reads "
        "headers and pins hf:// branches and tags to commits through it (never the public Hub); "
        "air-gapped hf:// sources need it",
    )
    model_stores: tuple[str, ...] = Field(
        (),
        description="Internal model stores: host names (https sources there are read at plan time and pass the "
        "air-gap rule) and s3://bucket entries",
    )
    tools_image: Image = Field(
        "ghcr.io/llmkube/llmkube-iac:0.1.0",
        description="Image with `llmkube-iac`: runs the download Jobs and the pods' verify-model init step",
    )
    storage_class_name: Subdomain | None = Field(
        None,
        description="StorageClass of model cache PVCs (a model's cache.storageClassName wins); unset: the "
        "cluster default",
    )
    accelerators: tuple[AcceleratorPool, ...] = Field(
        (), description="Accelerator node pools: placement, the capacity rule and gpu-fit read them"
    )
    metal_hosts: tuple[MetalHost, ...] = Field(
        (), description="Apple Silicon hosts running llmkube-metal-agent (for services with accelerator.vendor metal)"
    )
    network: NetworkRules = Field(NetworkRules(), description="Site-wide egress rules")
    operators: Operators = Field(Operators(), description="Cluster add-ons the site installs as Helm charts")
    monitoring: Monitoring = Field(Monitoring(), description="Where the site's Prometheus runs")
    addons: AddOns = Field(
        AddOns(),
        description="Fleet add-ons: cert-manager, the Prometheus operator stack, Pyrra, Kueue, device exporters",
    )
    cert_issuer: Subdomain | None = Field(
        None,
        description="cert-manager ClusterIssuer: routers then serve HTTPS with a Certificate it issues; unset: "
        "plain HTTP (keys and prompts cross the network in clear text; the router-tls rule says so)",
    )
    production: bool = Field(
        False,
        description="A production site: image-pinning becomes mandatory (as at airGapped sites), so every "
        "image must be pinned by digest (llmkube-iac pin writes imageDigests)",
    )
    image_digests: dict[str, str] = Field(
        default_factory=dict,
        description="Digest of each image reference the site runs, as `llmkube-iac pin` resolved it against the "
        'registry or mirror the site pulls from: {"<reference as rendered, after registryMirrors>": '
        '"sha256:<64 hex>"}. The planner appends @<digest> to exactly those references; written by '
        "the pin command, never by hand from elsewhere",
    )
    economics: SiteEconomics | None = Field(
        None,
        description="Electricity price, PUE and the throughput model's efficiency: with the pools' economics, "
        "the cost per token of each service",
    )
    cluster_provides: tuple[str, ...] = Field(
        (),
        description="API groups whose CRDs the cluster already serves without an add-on of this site, e.g. "
        "[monitoring.coreos.com, cert-manager.io] when the Prometheus operator and cert-manager are "
        "installed; every custom resource the plan emits needs its group here or from an add-on",
    )

    @field_validator("cluster_provides")
    @classmethod
    def _groups(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for group in v:
            if not API_GROUP.match(group) or "." not in group:
                raise ValueError(
                    f"clusterProvides: {group!r} is not an API group (a DNS name such as "
                    "monitoring.coreos.com; built-in groups need no declaration)"
                )
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

    @field_validator("hf_endpoint")
    @classmethod
    def _hf_endpoint(cls, v: str | None) -> str | None:
        if v is not None:
            raise_if(check_url(v))
        return v

    @field_validator("model_stores")
    @classmethod
    def _stores(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for i, store in enumerate(v):
            bucket = store.removeprefix("s3://")
            bad = check_host(bucket) if store.startswith("s3://") else check_host(store)
            if bad:
                raise ValueError(f"modelStores[{i}]: {bad}; entries are host names or s3://bucket")
        return v

    @model_validator(mode="after")
    def _air_gap(self) -> SiteSpec:
        names = [p.name for p in self.accelerators]
        dupes = duplicates(names)
        if dupes:
            raise ValueError(f"accelerator pool names must be unique: {', '.join(dupes)}")
        if self.air_gapped and not self.registry_mirrors:
            raise ValueError("an airGapped site needs registryMirrors: images cannot be pulled from the internet")
        return self

    @field_validator("image_digests")
    @classmethod
    def _digests(cls, v: dict[str, str]) -> dict[str, str]:
        bad = [f"{k}: {d}" for k, d in v.items() if not _DIGEST.match(d)]
        bad += [f"{k}: the reference already carries a digest" for k in v if "@" in k or not k or " " in k]
        if bad:
            raise ValueError(
                "imageDigests maps an image reference (without @digest) to sha256:<64 lower-case hex>; "
                f"run llmkube-iac pin to write them: {'; '.join(bad)}"
            )
        return v

    @property
    def requires_pinned_images(self) -> bool:
        """image-pinning is mandatory here: an air-gapped or production site runs only digest-pinned images."""
        return self.air_gapped or self.production

    @property
    def cluster_name(self) -> str:
        """The provider's clusterIdentifier and the offline check's cluster identity."""
        return self.kubernetes.cluster or self.kubernetes.context or self.name

    @property
    def deny_egress(self) -> bool:
        return self.air_gapped if self.network.default_deny_egress is None else self.network.default_deny_egress

    def pools_for(self, vendor: str) -> list[AcceleratorPool]:
        return [p for p in self.accelerators if p.vendor == vendor]
