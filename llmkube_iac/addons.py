"""THE add-on table: cluster add-ons a site installs as pinned Helm charts, and when it installs them.

Adding an add-on is one `AddOn` entry here: `plan/site.py` installs every entry whose condition
holds for the site and never names one. A condition is a function of the site (and the entry),
so "operators.keda is on" and "a pool of a vendor whose operator this is exists, and
operators.gpuOperators is on" are both one word in the table. Vendors name their operator here
(`VendorProfile.operator`); the add-on does not name the vendor back.

Each entry also carries what the real engine needs to know about the chart, read from the pinned
chart's own values.yaml: which values keys name where images come from (an air-gapped site points
them at its mirrors; None: not verified, so an air-gapped site refuses the chart), the API groups
whose CRDs it installs and those it needs from elsewhere (the cluster model checks both), the key
that switches off the Node Feature Discovery it bundles, and its namespace's labels.

Fleet add-ons (cert-manager, the Prometheus operator stack, Pyrra, Kueue, device exporters) are
switched on in `site.addons`; an entry whose API groups the cluster already provides (any group of
its `provides` in `site.clusterProvides`) is not installed. `site_values` adds values that depend on the site;
`registration` says how the components layer registers the chart: "helm" (helm.v4.Chart) or
"cert-manager" (the CertManager component of pulumi-kubernetes-cert-manager, a provider-side
component run by the kubernetes-cert-manager plugin).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .addon_types import (
    AddOn,
    ChartImage,
    Condition,
    _cluster_provides,
    addons_flag,
    monitoring_on,
    operators_flag,
    vendor_exporter,
    vendor_exporter_placement,
    vendor_operator,
)

if TYPE_CHECKING:  # pragma: no cover
    from .spec import SiteSpec


def _gpu_operator_values(site: SiteSpec) -> dict:
    """dcgm-exporter ships inside NVIDIA's gpu-operator: with monitoring, Prometheus scrapes it."""
    if site.addons.metrics_exporters and monitoring_on(site):
        return {"dcgmExporter": {"enabled": True, "serviceMonitor": {"enabled": True}}}
    return {}


def _pyrra_values(site: SiteSpec) -> dict:
    """Pyrra queries the site's Prometheus (the one KEDA queries too)."""
    return {"prometheusUrl": site.monitoring.prometheus_url}


def _kueue_values(site: SiteSpec) -> dict:
    """Kueue's manager configuration: the pod integration that admits team services (plan/quota.py owns it)."""
    from .plan.quota import kueue_values

    return kueue_values()


NFD_GROUP = "nfd.k8s-sigs.io"
_NFD_IMAGE = ChartImage("node-feature-discovery.image.repository", "registry.k8s.io/nfd/node-feature-discovery")
# GPU operators run privileged DaemonSets (driver, toolkit, device plugin): their namespace must allow it
_PRIVILEGED = {"pod-security.kubernetes.io/enforce": "privileged"}


def _nvcr(*keys: str) -> tuple[ChartImage, ...]:
    """gpu-operator values: each component's `repository` (nvcr.io/nvidia[/sub]) is joined with `image:version`."""
    return tuple(
        ChartImage(f"{k}.repository", f"nvcr.io/nvidia{sub}") for k, _, sub in (kv.partition("=") for kv in keys)
    )


_CERT_MANAGER_IMAGES = tuple(  # cert-manager values.yaml: <component>.image.repository (registry unset)
    ChartImage(f"{prefix}image.repository", f"quay.io/jetstack/cert-manager-{name}")
    for prefix, name in (
        ("", "controller"),
        ("webhook.", "webhook"),
        ("cainjector.", "cainjector"),
        ("acmesolver.", "acmesolver"),
        ("startupapicheck.", "startupapicheck"),
    )
)
# kube-prometheus-stack values.yaml (and its grafana, kube-state-metrics and node-exporter subcharts):
# `<image>.registry` joined with `<image>.repository`; the images of components it enables by default
_KPS_IMAGES = tuple(
    ChartImage(f"{k}.registry", reg)
    for k, reg in (
        ("prometheusOperator.image", "quay.io"),
        ("prometheusOperator.prometheusConfigReloader.image", "quay.io"),
        ("prometheusOperator.admissionWebhooks.patch.image", "registry.k8s.io"),
        ("prometheus.prometheusSpec.image", "quay.io"),
        ("alertmanager.alertmanagerSpec.image", "quay.io"),
        ("grafana.image", "docker.io"),
        ("grafana.sidecar.image", "quay.io"),
        ("kube-state-metrics.image", "registry.k8s.io"),
        ("prometheus-node-exporter.image", "quay.io"),
    )
)

ADDONS: dict[str, AddOn] = {
    a.name: a
    for a in (
        # first what provides CRDs others need: cert-manager (webhook certificates), the Prometheus operator
        AddOn(
            "cert-manager",
            "cert-manager",
            "v1.18.2",
            "https://charts.jetstack.io",
            "cert-manager",
            addons_flag("cert_manager"),
            values={"crds": {"enabled": True}},
            images=_CERT_MANAGER_IMAGES,
            provides=("cert-manager.io", "acme.cert-manager.io"),
            registration="cert-manager",
        ),
        AddOn(
            "kube-prometheus-stack",
            "kube-prometheus-stack",
            "67.8.0",
            "https://prometheus-community.github.io/helm-charts",
            "monitoring",
            addons_flag("monitoring"),
            values={
                "grafana": {
                    "sidecar": {
                        "dashboards": {
                            "enabled": True,
                            "label": "grafana_dashboard",
                            "labelValue": "1",
                            "searchNamespace": "ALL",
                        }
                    }
                },
                # select every PodMonitor/ServiceMonitor/PrometheusRule, not only the release's own
                "prometheus": {
                    "prometheusSpec": {
                        "podMonitorSelectorNilUsesHelmValues": False,
                        "ruleSelectorNilUsesHelmValues": False,
                        "serviceMonitorSelectorNilUsesHelmValues": False,
                    }
                },
            },
            images=_KPS_IMAGES,
            provides=("monitoring.coreos.com",),
            namespace_labels=_PRIVILEGED,
        ),
        # deployments/gpu-operator/values.yaml at v25.3.4 (Node Feature Discovery v0.17.3 is a subchart)
        AddOn(
            "gpu-operator",
            "gpu-operator",
            "v25.3.4",
            "https://helm.ngc.nvidia.com/nvidia",
            "gpu-operator",
            vendor_operator,
            images=_nvcr(
                "validator=/cloud-native",
                "operator",
                "operator.initContainer",
                "driver",
                "driver.manager=/cloud-native",
                "toolkit=/k8s",
                "devicePlugin",
                "dcgm=/cloud-native",
                "dcgmExporter=/k8s",
                "gfd",
                "migManager=/cloud-native",
                "nodeStatusExporter=/cloud-native",
                "gds=/cloud-native",
                "gdrcopy=/cloud-native",
                "vgpuManager.driverManager=/cloud-native",
                "vgpuDeviceManager=/cloud-native",
                "vfioManager",
                "vfioManager.driverManager=/cloud-native",
                "kataManager=/cloud-native",
                "sandboxDevicePlugin",
                "ccManager=/cloud-native",
            )
            + (_NFD_IMAGE,),
            provides=("nvidia.com", NFD_GROUP),
            nfd_key="nfd.enabled",
            namespace_labels=_PRIVILEGED,
            site_values=_gpu_operator_values,
        ),
        # helm-charts-k8s/values.yaml and charts/kmm/values.yaml for v1.3.0: the KMM subchart's webhook certificate
        # is a cert-manager Certificate, and the chart's default NodeFeatureRule needs NFD's CRDs
        AddOn(
            "amd-gpu-operator",
            "gpu-operator-charts",
            "v1.3.0",
            "https://rocm.github.io/gpu-operator",
            "kube-amd-gpu",
            vendor_operator,
            images=(
                ChartImage("controllerManager.manager.image.repository", "docker.io/rocm/gpu-operator"),
                ChartImage("deviceConfig.spec.commonConfig.initContainerImage", "busybox:1.36", prefix=False),
                ChartImage(
                    "deviceConfig.spec.commonConfig.utilsContainer.image",
                    "docker.io/rocm/gpu-operator-utils:v1.2.1",
                    prefix=False,
                ),
                ChartImage(
                    "deviceConfig.spec.devicePlugin.devicePluginImage", "rocm/k8s-device-plugin:latest", prefix=False
                ),
                ChartImage(
                    "deviceConfig.spec.devicePlugin.nodeLabellerImage",
                    "rocm/k8s-device-plugin:labeller-latest",
                    prefix=False,
                ),
                ChartImage(
                    "deviceConfig.spec.metricsExporter.image", "rocm/device-metrics-exporter:v1.3.0", prefix=False
                ),
                ChartImage(
                    "deviceConfig.spec.metricsExporter.rbacConfig.image",
                    "quay.io/brancz/kube-rbac-proxy:v0.18.1",
                    prefix=False,
                ),
                ChartImage("deviceConfig.spec.testRunner.image", "docker.io/rocm/test-runner:v1.3.0", prefix=False),
                ChartImage("deviceConfig.spec.configManager.image", "rocm/device-config-manager:v1.3.0", prefix=False),
                ChartImage(
                    "kmm.controller.manager.image.repository", "docker.io/rocm/kernel-module-management-operator"
                ),
                ChartImage(
                    "kmm.controller.manager.env.relatedImageBuild",
                    "gcr.io/kaniko-project/executor:v1.23.2",
                    prefix=False,
                ),
                ChartImage(
                    "kmm.controller.manager.env.relatedImageSign",
                    "docker.io/rocm/kernel-module-management-signimage:latest",
                    prefix=False,
                ),
                ChartImage(
                    "kmm.controller.manager.env.relatedImageWorker",
                    "docker.io/rocm/kernel-module-management-worker:latest",
                    prefix=False,
                ),
                ChartImage(
                    "kmm.webhookServer.webhookServer.image.repository",
                    "docker.io/rocm/kernel-module-management-webhook-server",
                ),
                _NFD_IMAGE,
            ),
            provides=("amd.com", "kmm.sigs.x-k8s.io", NFD_GROUP),
            requires=("cert-manager.io", NFD_GROUP),
            nfd_key="node-feature-discovery.enabled",
            namespace_labels=_PRIVILEGED,
        ),
        # published only as a package (no source to read its values.yaml from): its image keys are not verified,
        # so an air-gapped site refuses it instead of pulling from vault.habana.ai
        AddOn(
            "habana-ai-operator",
            "habana-ai-operator",
            "1.22.0",
            "https://vault.habana.ai/artifactory/api/helm/gaudi-helm",
            "habana-ai-operator",
            vendor_operator,
            images=None,
            provides=("habanalabs.habana.ai",),
            namespace_labels=_PRIVILEGED,
        ),
        # charts/device-plugin-operator at 0.34.0: image "<manager.image.hub>/intel-deviceplugin-operator:<tag>";
        # its webhook serving certificate is a cert-manager Certificate
        AddOn(
            "intel-device-plugins-operator",
            "intel-device-plugins-operator",
            "0.34.0",
            "https://intel.github.io/helm-charts",
            "inteldeviceplugins-system",
            vendor_operator,
            images=(ChartImage("manager.image.hub", "intel"),),
            provides=("deviceplugin.intel.com",),
            requires=("cert-manager.io",),
            namespace_labels=_PRIVILEGED,
        ),
        # keda/values.yaml at 2.17.2: image "<image.X.registry>/<image.X.repository>:<tag>"
        AddOn(
            "keda",
            "keda",
            "2.17.2",
            "https://kedacore.github.io/charts",
            "keda",
            operators_flag("keda"),
            images=tuple(
                ChartImage(f"image.{c}.registry", "ghcr.io") for c in ("keda", "metricsApiServer", "webhooks")
            ),
            provides=("keda.sh", "eventing.keda.sh"),
        ),
        # ROCm/device-metrics-exporter helm-charts/values.yaml at v1.5.4
        AddOn(
            "amd-device-metrics-exporter",
            "device-metrics-exporter-charts",
            "v1.5.4",
            "https://rocm.github.io/device-metrics-exporter",
            "kube-amd-gpu",
            vendor_exporter,
            values={"serviceMonitor": {"enabled": True}},
            images=(
                ChartImage("image.repository", "docker.io/rocm/device-metrics-exporter"),
                ChartImage("image.initContainerImage", "busybox:1.36", prefix=False),
            ),
            requires=("monitoring.coreos.com",),
            namespace_labels=_PRIVILEGED,
        ),
        # (Gaudi's metric exporter has no chart of its own: its ClusterPolicy in the Habana operator deploys it)
        # XPU Manager's xpumd chart (xpumd/charts/xpumd) at 2.0.0, published as an OCI chart whose appVersion (the
        # image tag) is the release tag. Its DaemonSet runs as root with SYS_ADMIN and hostPath volumes, requests
        # the GPU plugin's monitoring resource (gpu.intel.com/i915_monitoring with gpuAccess "i915"), and exports
        # Prometheus metrics only when its collector pipeline lists the prometheus exporter; its values.schema.json
        # takes Kubernetes definitions from raw.githubusercontent.com, which Helm fetches when it validates values
        AddOn(
            "intel-xpumd",
            "xpumd",
            "2.0.0",
            "oci://ghcr.io/intel/xpumanager/charts",
            "intel-xpumd",
            vendor_exporter,
            values={
                "gpuAccess": "i915",
                "prometheus": {"monitor": True},
                "config": {"service": {"pipelines": {"metrics": {"exporters": ["intelxpuinfo", "prometheus"]}}}},
            },
            images=(ChartImage("image.repository", "ghcr.io/intel/xpumanager/xpumd"),),
            requires=("monitoring.coreos.com",),
            namespace_labels=_PRIVILEGED,
            site_values=lambda site: vendor_exporter_placement(site, "intel-xpumd"),
            schema_hosts=("raw.githubusercontent.com",),
        ),
        # pyrra-dev/helm-charts charts/pyrra/values.yaml at 0.16.0: Pyrra writes PrometheusRules
        AddOn(
            "pyrra",
            "pyrra",
            "0.16.0",
            "https://pyrra-dev.github.io/helm-charts",
            "monitoring",
            addons_flag("pyrra"),
            values={"genericRules": {"enabled": True}},
            images=(ChartImage("image.repository", "ghcr.io/pyrra-dev/pyrra"),),
            provides=("pyrra.dev",),
            requires=("monitoring.coreos.com",),
            site_values=_pyrra_values,
        ),
        # kubernetes-sigs/kueue charts/kueue (published as oci://registry.k8s.io/kueue/charts/kueue)
        AddOn(
            "kueue",
            "kueue",
            "0.13.2",
            "oci://registry.k8s.io/kueue/charts",
            "kueue-system",
            addons_flag("kueue"),
            site_values=_kueue_values,
            images=(ChartImage("controllerManager.manager.image.repository", "registry.k8s.io/kueue/kueue"),),
            provides=("kueue.x-k8s.io",),
        ),
    )
}


def providers_of(site: SiteSpec, group: str) -> list[AddOn]:
    """The add-ons this site installs that provide API group `group`."""
    return [a for a in site_addons(site) if group in a.provides]


def unmet_needs(site: SiteSpec) -> list[tuple[AddOn, str]]:
    """(add-on, API group): a fleet add-on switched on in site.addons needs a group nothing provides."""
    provided = _cluster_provides(site)
    installed = site_addons(site)
    for a in installed:
        provided |= set(a.provides)
    return [
        (a, g) for a in installed if getattr(a.enabled, "addons_flag", None) for g in a.requires if g not in provided
    ]


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
                raise ValueError(
                    f"vendor {pool.vendor} names operator add-on {name!r}, which is not in the add-on "
                    f"table; valid: {', '.join(ADDONS)}"
                )
    return [a for a in ADDONS.values() if a.enabled(site, a)]


__all__ = [
    "ADDONS",
    "NFD_GROUP",
    "AddOn",
    "ChartImage",
    "Condition",
    "addon",
    "addons_flag",
    "monitoring_on",
    "operators_flag",
    "providers_of",
    "site_addons",
    "unmet_needs",
    "vendor_exporter",
    "vendor_exporter_placement",
    "vendor_operator",
]
