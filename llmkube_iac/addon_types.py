"""What an add-on entry is (AddOn, ChartImage) and the conditions the add-on table's entries use.

Why apart from addons.py: the table is data, one entry per chart, and grows with every add-on; the entry
type and the handful of reusable conditions ("operators.<flag> is on", "a pool's vendor names this
add-on", "addons.<flag> is on and the cluster lacks its API groups") and site values (where a vendor's
device exporter runs) are the vocabulary the entries are written in and change rarely. Everything here
is re-exported by addons.py, the one place to import from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .spec import SiteSpec

Condition = Callable[["SiteSpec", "AddOn"], bool]


@dataclass(frozen=True)
class ChartImage:
    """One values key of a pinned chart that names where an image is pulled from. `default` is its value
    in that chart version's values.yaml; a `prefix` is a registry (or registry/path) the chart joins with
    an image name, otherwise the value is a whole reference."""

    key: str  # dotted values path, e.g. "image.keda.registry"
    default: str
    prefix: bool = True


@dataclass(frozen=True)
class AddOn:
    name: str  # Helm release name (and resource name)
    chart: str
    version: str  # pinned
    repository: str
    namespace: str
    enabled: Condition  # when the site installs it
    values: dict = field(default_factory=dict)
    images: tuple[ChartImage, ...] | None = None  # every image key of its pinned values.yaml; None: not verified
    provides: tuple[str, ...] = ()  # API groups whose CRDs the chart installs
    requires: tuple[str, ...] = ()  # API groups it needs from another add-on or the cluster
    nfd_key: str | None = None  # values key that switches off its bundled Node Feature Discovery
    namespace_labels: dict = field(default_factory=dict)
    site_values: Callable[[SiteSpec], dict] | None = None  # values that depend on the site
    registration: str = "helm"  # "helm" | "cert-manager" (see the module docstring)
    # hosts the chart's values.schema.json loads `$ref`s from: Helm fetches them whenever it validates the
    # values, so the chart cannot be rendered without them (an air-gapped site refuses it: airgap-charts)
    schema_hosts: tuple[str, ...] = ()


def vendor_operator(site: SiteSpec, addon: AddOn) -> bool:
    """operators.gpuOperators is on and a pool's vendor names this add-on as its operator."""
    from .hardware import vendor

    return site.operators.gpu_operators and any(vendor(p.vendor).operator == addon.name for p in site.accelerators)


def operators_flag(flag: str) -> Condition:
    """The site's `operators.<flag>` (snake_case attribute) is on."""

    def enabled(site: SiteSpec, addon: AddOn) -> bool:
        return bool(getattr(site.operators, flag))

    enabled.__doc__ = f"operators.{flag} is on"
    return enabled


def _cluster_provides(site: SiteSpec) -> set[str]:
    return set(getattr(site, "cluster_provides", None) or ())


def addons_flag(flag: str) -> Condition:
    """The site's `addons.<flag>` (snake_case attribute) is on and the cluster provides none of the API
    groups the add-on would install (`site.clusterProvides`)."""

    def enabled(site: SiteSpec, addon: AddOn) -> bool:
        if set(addon.provides) & _cluster_provides(site):  # a second copy would fight over its CRDs
            return False
        return bool(getattr(site.addons, flag))

    enabled.__doc__ = f"addons.{flag} is on"
    enabled.addons_flag = flag  # type: ignore[attr-defined]  # unmet_needs reports these by their switch
    return enabled


def monitoring_on(site: SiteSpec) -> bool:
    """Prometheus-operator objects have a consumer: the site installs the stack or the cluster has one."""
    return bool(site.addons.monitoring) or "monitoring.coreos.com" in _cluster_provides(site)


def vendor_exporter(site: SiteSpec, addon: AddOn) -> bool:
    """addons.metricsExporters is on, Prometheus runs (something scrapes it) and a pool's vendor names
    this add-on as its metrics exporter."""
    from .hardware import vendor

    return (
        site.addons.metrics_exporters
        and monitoring_on(site)
        and any(vendor(p.vendor).metrics_exporter == addon.name for p in site.accelerators)
    )


def vendor_exporter_placement(site: SiteSpec, exporter: str) -> dict:
    """nodeSelector and tolerations for a device exporter's DaemonSet: the node labels of the vendors that
    name it as their exporter and the tolerations their pods get (the vendor's and its pools' taints)."""
    from .hardware import VENDORS

    selector: dict[str, str] = {}
    tolerations: list[dict] = []
    for name, profile in VENDORS.items():
        if profile.metrics_exporter != exporter:
            continue
        selector.update(profile.node_selector)
        wanted = [dict(t) for t in profile.tolerations]
        wanted += [taint.toleration() for pool in site.pools_for(name) for taint in pool.taints]
        tolerations += [t for t in wanted if t not in tolerations]
    return {k: v for k, v in (("nodeSelector", selector), ("tolerations", tolerations)) if v}
