"""Fleet operations spec: site add-on switches, service/router SLOs and team quotas.

Kept apart from the service/site models so the operational knobs (what a site installs, what a
service promises, what a team may claim) read as one small vocabulary; every default keeps a
stack that does not mention them exactly as it was.
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from .base import SpecModel, check_dns_label
from .priority import Priority

_DURATION = re.compile(r"^[1-9][0-9]*(s|m|h|d|w|y)\Z")


class AddOns(SpecModel):
    """Fleet add-ons the site installs (pinned charts from the add-on table); all off by default."""

    cert_manager: bool = Field(
        False,
        description="Install cert-manager (pulumi-kubernetes-cert-manager's CertManager component, CRDs "
        "included); its plugin must be installed where `pulumi` runs",
    )
    monitoring: bool = Field(
        False,
        description="Install kube-prometheus-stack (Prometheus operator, Prometheus, Alertmanager, Grafana); "
        "skipped when site.clusterProvides lists monitoring.coreos.com",
    )
    pyrra: bool = Field(
        False, description="Install Pyrra: services and routers then get ServiceLevelObjectives (needs monitoring)"
    )
    kueue: bool = Field(
        False,
        description="Install Kueue: `teams` then get ResourceFlavors, ClusterQueues and LocalQueues, and the pods "
        "of services naming a team are admitted through the team's queue (Kueue's pod integration)",
    )
    metrics_exporters: bool = Field(
        False,
        description="Install each pool vendor's device-metrics exporter chart where Prometheus runs (AMD's "
        "device-metrics-exporter, Intel XPU Manager's xpumd); NVIDIA's dcgm-exporter comes with its gpu-operator "
        "and is then scraped; Gaudi's metric exporter has no chart of its own",
    )


class LatencySlo(SpecModel):
    """Share of requests faster than a threshold, from the runtime's latency histogram."""

    target: float = Field(95.0, gt=0, lt=100, description="Percent of requests faster than thresholdSeconds")
    threshold_seconds: float = Field(
        10.0,
        gt=0,
        description="Latency threshold; must be a bucket bound of the runtime's (or router's) histogram. "
        "Unset: 10 s, or the histogram's next bound above it",
    )


class SloSpec(SpecModel):
    """Service level objectives as Pyrra ServiceLevelObjectives (Pyrra generates the burn-rate alerts)."""

    enabled: bool = Field(True, description="Generate the objectives (where Pyrra is installed)")
    availability: float = Field(
        99.5, gt=0, lt=100, description="Percent of requests that must not fail over the window"
    )
    window: str = Field("28d", description="Window of the objectives, a Prometheus duration such as 28d or 4w")
    latency: LatencySlo | None = Field(LatencySlo(), description="Latency objective; null: availability only")

    @field_validator("window")
    @classmethod
    def _window(cls, v: str) -> str:
        if not _DURATION.match(v):
            raise ValueError(f"window {v!r} is not a Prometheus duration like 28d, 4w or 720h")
        return v


class TeamDevices(SpecModel):
    """Devices of one vendor (optionally one pool) a team may claim."""

    vendor: str = Field(description="Accelerator vendor of the devices (a vendor with a device resource)")
    pool: str | None = Field(None, description="Accelerator pool of the site; unset: the vendor's devices in any pool")
    count: int = Field(ge=0, description="Devices the team may hold at once (its nominal quota)")


class TeamQuota(SpecModel):
    """A team: its namespace, the devices it may claim and its scheduling priority."""

    name: str = Field(
        description="Team name (DNS label, not `default`): names its ClusterQueue and LocalQueues; the "
        "services naming it queue in its LocalQueue where Kueue runs"
    )
    namespace: str | None = Field(
        None, description="The team's namespace (created, with a ResourceQuota); unset: the team name"
    )
    devices: tuple[TeamDevices, ...] = Field((), description="Device quotas per vendor/pool")
    priority: Priority = Field(
        "normal",
        description="Priority of the team's workloads: the site's PriorityClass "
        "llmkube-<priority>, which Kueue orders a queue by",
    )
    cohort: str = Field("llmkube", description="Kueue cohort: teams in one cohort borrow each other's unused quota")
    borrowing: bool = Field(True, description="May borrow unused quota from its cohort")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if v == "default":  # Kueue (LocalQueueDefaulting, on since 0.12) queues every unlabelled workload there
            raise ValueError(
                "team name 'default' is reserved: Kueue sends every workload without a queue label in a "
                "namespace to the LocalQueue named default, so the site's routers and download Jobs would "
                "wait in this team's queue; choose another name"
            )
        return check_dns_label(v, "team name")

    @field_validator("namespace", "cohort")
    @classmethod
    def _ns(cls, v: str | None, info) -> str | None:
        return None if v is None else check_dns_label(v, info.field_name)

    @property
    def team_namespace(self) -> str:
        return self.namespace or self.name
