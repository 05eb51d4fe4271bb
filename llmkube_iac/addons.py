"""THE add-on table: cluster add-ons a site installs as pinned Helm charts, and when it installs them.

Adding an add-on is one `AddOn` entry here: `plan/site.py` installs every entry whose condition
holds for the site and never names one. A condition is a function of the site (and the entry),
so "operators.keda is on" and "a pool of a vendor whose operator this is exists, and
operators.gpuOperators is on" are both one word in the table. Vendors name their operator and
their device-metrics exporter here (`VendorProfile.operator`, `.metrics_exporter`); the add-on
does not name the vendor back.

Each entry also says which API groups it provides (`provides`: the cluster model and the
ordering of objects that need its CRDs read it), which groups it needs itself (`needs`), and where
its chart's images are set (`images`: value paths, rewritten to the site's mirrors). `registration`
says how the components layer registers it: "helm" (a helm.v4.Chart) or "cert-manager" (the
CertManager component of pulumi-kubernetes-cert-manager, a provider-side component of the
kubernetes-cert-manager plugin).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .spec import SiteSpec

Condition = Callable[["SiteSpec", "AddOn"], bool]


@dataclass(frozen=True)
class ImageValue:
    """Where a chart sets one image: `repository` holds the image without tag, or (with `registry`)
    the path after the registry host. The planner writes the mirrored reference back there."""

    repository: str  # dotted value path, e.g. "image.repository"
    image: str  # the chart's default image (no tag), e.g. "ghcr.io/pyrra-dev/pyrra"
    registry: str | None = None  # dotted path of a separate registry value, e.g. "image.registry"


@dataclass(frozen=True)
class AddOn:
    name: str  # Helm release name (and resource name)
    chart: str
    version: str  # pinned
    repository: str
    namespace: str
    enabled: Condition  # when the site installs it
    values: dict = field(default_factory=dict)
    provides: tuple[str, ...] = ()  # API groups whose CRDs it installs
    needs: tuple[str, ...] = ()  # API groups it creates objects of (installed after their provider)
    images: tuple[ImageValue, ...] = ()  # chart values naming images: rewritten to the site's mirrors
    registration: str = "helm"  # "helm" | "cert-manager" (see the module docstring)
    site_values: Callable[[SiteSpec], dict] | None = None  # values that depend on the site


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


def addons_flag(flag: str) -> Condition:
    """The site's `addons.<flag>` (snake_case attribute) is on and the cluster does not already provide
    every API group the add-on would install (`site.clusterProvides`, when the spec has it)."""

    def enabled(site: SiteSpec, addon: AddOn) -> bool:
        provided = set(getattr(site, "cluster_provides", None) or ())
        if addon.provides and set(addon.provides) <= provided:
            return False
        return bool(getattr(site.addons, flag))

    enabled.__doc__ = f"addons.{flag} is on"
    return enabled


def vendor_exporter(site: SiteSpec, addon: AddOn) -> bool:
    """addons.metricsExporters is on, Prometheus runs (something scrapes it) and a pool's vendor names
    this add-on as its metrics exporter."""
    from .hardware import vendor

    return site.addons.metrics_exporters and monitoring_on(site) and any(
        vendor(p.vendor).metrics_exporter == addon.name for p in site.accelerators)


def _gpu_operator_values(site: SiteSpec) -> dict:
    """dcgm-exporter ships inside NVIDIA's gpu-operator: with monitoring, Prometheus scrapes it."""
    if site.addons.metrics_exporters and monitoring_on(site):
        return {"dcgmExporter": {"enabled": True, "serviceMonitor": {"enabled": True}}}
    return {}


def _pyrra_values(site: SiteSpec) -> dict:
    """Pyrra queries the site's Prometheus (the one KEDA queries too)."""
    return {"prometheusUrl": site.monitoring.prometheus_url}


def monitoring_on(site: SiteSpec) -> bool:
    """Prometheus-operator objects have a consumer: the site installs the stack or the cluster has one."""
    provided = set(getattr(site, "cluster_provides", None) or ())
    return bool(site.addons.monitoring) or "monitoring.coreos.com" in provided


_KPS_IMAGES = (  # kube-prometheus-stack values.yaml (and its grafana, kube-state-metrics, node-exporter charts)
    ImageValue("prometheusOperator.image.repository", "quay.io/prometheus-operator/prometheus-operator",
               "prometheusOperator.image.registry"),
    ImageValue("prometheusOperator.prometheusConfigReloader.image.repository",
               "quay.io/prometheus-operator/prometheus-config-reloader",
               "prometheusOperator.prometheusConfigReloader.image.registry"),
    ImageValue("prometheusOperator.admissionWebhooks.patch.image.repository",
               "registry.k8s.io/ingress-nginx/kube-webhook-certgen",
               "prometheusOperator.admissionWebhooks.patch.image.registry"),
    ImageValue("prometheus.prometheusSpec.image.repository", "quay.io/prometheus/prometheus",
               "prometheus.prometheusSpec.image.registry"),
    ImageValue("alertmanager.alertmanagerSpec.image.repository", "quay.io/prometheus/alertmanager",
               "alertmanager.alertmanagerSpec.image.registry"),
    ImageValue("grafana.image.repository", "docker.io/grafana/grafana", "grafana.image.registry"),
    ImageValue("grafana.sidecar.image.repository", "quay.io/kiwigrid/k8s-sidecar", "grafana.sidecar.image.registry"),
    ImageValue("kube-state-metrics.image.repository", "registry.k8s.io/kube-state-metrics/kube-state-metrics",
               "kube-state-metrics.image.registry"),
    ImageValue("prometheus-node-exporter.image.repository", "quay.io/prometheus/node-exporter",
               "prometheus-node-exporter.image.registry"),
)
_CERT_MANAGER_IMAGES = tuple(  # cert-manager values.yaml: <component>.image.{registry,repository}
    ImageValue(f"{prefix}image.repository", f"quay.io/jetstack/cert-manager-{name}", f"{prefix}image.registry")
    for prefix, name in (("", "controller"), ("webhook.", "webhook"), ("cainjector.", "cainjector"),
                         ("startupapicheck.", "startupapicheck"))
)

ADDONS: dict[str, AddOn] = {a.name: a for a in (
    # first what provides CRDs others need: cert-manager (webhooks' certificates), the Prometheus operator
    AddOn("cert-manager", "cert-manager", "v1.18.2", "https://charts.jetstack.io", "cert-manager",
          addons_flag("cert_manager"), values={"crds": {"enabled": True}},
          provides=("cert-manager.io", "acme.cert-manager.io"),
          images=_CERT_MANAGER_IMAGES, registration="cert-manager"),
    AddOn("kube-prometheus-stack", "kube-prometheus-stack", "67.8.0",
          "https://prometheus-community.github.io/helm-charts", "monitoring", addons_flag("monitoring"),
          values={"grafana": {"sidecar": {"dashboards": {"enabled": True, "label": "grafana_dashboard",
                                                         "labelValue": "1", "searchNamespace": "ALL"}}},
                  # select every PodMonitor/PrometheusRule, not only the release's own
                  "prometheus": {"prometheusSpec": {"podMonitorSelectorNilUsesHelmValues": False,
                                                    "ruleSelectorNilUsesHelmValues": False,
                                                    "serviceMonitorSelectorNilUsesHelmValues": False}}},
          provides=("monitoring.coreos.com",), images=_KPS_IMAGES),
    AddOn("gpu-operator", "gpu-operator", "v25.3.4", "https://helm.ngc.nvidia.com/nvidia", "gpu-operator",
          vendor_operator, site_values=_gpu_operator_values),
    AddOn("amd-gpu-operator", "gpu-operator-charts", "v1.3.0", "https://rocm.github.io/gpu-operator", "kube-amd-gpu",
          vendor_operator),
    AddOn("habana-ai-operator", "habana-ai-operator", "1.22.0",
          "https://vault.habana.ai/artifactory/api/helm/gaudi-helm", "habana-ai-operator", vendor_operator),
    AddOn("intel-device-plugins-operator", "intel-device-plugins-operator", "0.34.0",
          "https://intel.github.io/helm-charts", "inteldeviceplugins-system", vendor_operator),
    AddOn("amd-device-metrics-exporter", "device-metrics-exporter-charts", "v1.5.4",
          "https://rocm.github.io/device-metrics-exporter", "kube-amd-gpu", vendor_exporter,
          values={"serviceMonitor": {"enabled": True}}, needs=("monitoring.coreos.com",),
          images=(ImageValue("image.repository", "docker.io/rocm/device-metrics-exporter"),)),
    AddOn("keda", "keda", "2.17.2", "https://kedacore.github.io/charts", "keda", operators_flag("keda"),
          provides=("keda.sh",)),
    AddOn("pyrra", "pyrra", "0.16.0", "https://pyrra-dev.github.io/helm-charts", "monitoring", addons_flag("pyrra"),
          values={"genericRules": {"enabled": True}}, provides=("pyrra.dev",), needs=("monitoring.coreos.com",),
          site_values=_pyrra_values,
          images=(ImageValue("image.repository", "ghcr.io/pyrra-dev/pyrra"),)),
    AddOn("kueue", "kueue", "0.13.2", "oci://registry.k8s.io/kueue/charts", "kueue-system", addons_flag("kueue"),
          provides=("kueue.x-k8s.io",),
          images=(ImageValue("controllerManager.manager.image.repository", "registry.k8s.io/kueue/kueue"),)),
)}


def unmet_needs(site: SiteSpec) -> list[tuple[AddOn, str]]:
    """(add-on, API group) pairs: an add-on the site installs needs a group nothing provides."""
    provided = set(getattr(site, "cluster_provides", None) or ())
    installed = site_addons(site)
    for a in installed:
        provided |= set(a.provides)
    return [(a, g) for a in installed for g in a.needs if g not in provided]


def providers_of(site: SiteSpec, group: str) -> list[AddOn]:
    """The add-ons this site installs that provide API group `group` (empty: none, or the cluster has it)."""
    return [a for a in site_addons(site) if group in a.provides]



def addon(name: str) -> AddOn:
    try:
        return ADDONS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown add-on {name!r}; valid: {', '.join(ADDONS)}") from None


def site_addons(site: SiteSpec) -> list[AddOn]:
    """The add-ons this site installs, in table order; a vendor naming no known add-on is an error."""
    from .hardware import vendor

    if site.operators.gpu_operators:
        for pool in site.accelerators:
            name = vendor(pool.vendor).operator
            if name is not None and name not in ADDONS:
                raise ValueError(f"vendor {pool.vendor} names operator add-on {name!r}, which is not in the add-on "
                                 f"table; valid: {', '.join(ADDONS)}")
    return [a for a in ADDONS.values() if a.enabled(site, a)]


__all__ = ["ADDONS", "AddOn", "Condition", "ImageValue", "addon", "addons_flag", "monitoring_on", "operators_flag",
           "providers_of", "site_addons", "unmet_needs", "vendor_exporter", "vendor_operator"]
