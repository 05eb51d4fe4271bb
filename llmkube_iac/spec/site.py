"""SiteSpec: one cluster (a datacenter, an edge site, a lab) with its rules and its hardware."""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from .base import SpecModel, check_country, check_dns_label, duplicates
from .economics import SiteEconomics
from .fleet_ops import AddOns
from .k8s import Image, Subdomain, check_host, raise_if
from .site_parts import (
    AcceleratorPool,
    KubernetesConnection,
    MetalHost,
    Monitoring,
    NetworkRules,
    NodeTaint,
    Operators,
    RegistryMirror,
    check_url,
)

API_GROUP = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}\Z")


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


__all__ = [
    "API_GROUP",
    "AcceleratorPool",
    "KubernetesConnection",
    "MetalHost",
    "Monitoring",
    "NetworkRules",
    "NodeTaint",
    "Operators",
    "RegistryMirror",
    "SiteSpec",
    "check_url",
]
