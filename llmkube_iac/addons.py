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


NFD_GROUP = "nfd.k8s-sigs.io"
_NFD_IMAGE = ChartImage("node-feature-discovery.image.repository", "registry.k8s.io/nfd/node-feature-discovery")
# GPU operators run privileged DaemonSets (driver, toolkit, device plugin): their namespace must allow it
_PRIVILEGED = {"pod-security.kubernetes.io/enforce": "privileged"}


def _nvcr(*keys: str) -> tuple[ChartImage, ...]:
    """gpu-operator values: each component's `repository` (nvcr.io/nvidia[/sub]) is joined with `image:version`."""
    return tuple(ChartImage(f"{k}.repository", f"nvcr.io/nvidia{sub}") for k, _, sub in (kv.partition("=")
                                                                                           for kv in keys))


ADDONS: dict[str, AddOn] = {a.name: a for a in (
    # deployments/gpu-operator/values.yaml at v25.3.4 (Node Feature Discovery v0.17.3 is a subchart)
    AddOn("gpu-operator", "gpu-operator", "v25.3.4", "https://helm.ngc.nvidia.com/nvidia", "gpu-operator",
          vendor_operator,
          images=_nvcr(
              "validator=/cloud-native", "operator", "operator.initContainer", "driver",
              "driver.manager=/cloud-native", "toolkit=/k8s", "devicePlugin", "dcgm=/cloud-native",
              "dcgmExporter=/k8s", "gfd", "migManager=/cloud-native", "nodeStatusExporter=/cloud-native",
              "gds=/cloud-native", "gdrcopy=/cloud-native", "vgpuManager.driverManager=/cloud-native",
              "vgpuDeviceManager=/cloud-native", "vfioManager", "vfioManager.driverManager=/cloud-native",
              "kataManager=/cloud-native", "sandboxDevicePlugin", "ccManager=/cloud-native",
          ) + (_NFD_IMAGE,),
          provides=("nvidia.com", NFD_GROUP), nfd_key="nfd.enabled", namespace_labels=_PRIVILEGED),
    # helm-charts-k8s/values.yaml and charts/kmm/values.yaml for v1.3.0: the KMM subchart's webhook certificate
    # is a cert-manager Certificate, and the chart's default NodeFeatureRule needs NFD's CRDs
    AddOn("amd-gpu-operator", "gpu-operator-charts", "v1.3.0", "https://rocm.github.io/gpu-operator", "kube-amd-gpu",
          vendor_operator,
          images=(
              ChartImage("controllerManager.manager.image.repository", "docker.io/rocm/gpu-operator"),
              ChartImage("deviceConfig.spec.commonConfig.initContainerImage", "busybox:1.36", prefix=False),
              ChartImage("deviceConfig.spec.commonConfig.utilsContainer.image",
                         "docker.io/rocm/gpu-operator-utils:v1.2.1", prefix=False),
              ChartImage("deviceConfig.spec.devicePlugin.devicePluginImage", "rocm/k8s-device-plugin:latest",
                         prefix=False),
              ChartImage("deviceConfig.spec.devicePlugin.nodeLabellerImage", "rocm/k8s-device-plugin:labeller-latest",
                         prefix=False),
              ChartImage("deviceConfig.spec.metricsExporter.image", "rocm/device-metrics-exporter:v1.3.0",
                         prefix=False),
              ChartImage("deviceConfig.spec.metricsExporter.rbacConfig.image",
                         "quay.io/brancz/kube-rbac-proxy:v0.18.1", prefix=False),
              ChartImage("deviceConfig.spec.testRunner.image", "docker.io/rocm/test-runner:v1.3.0", prefix=False),
              ChartImage("deviceConfig.spec.configManager.image", "rocm/device-config-manager:v1.3.0", prefix=False),
              ChartImage("kmm.controller.manager.image.repository", "docker.io/rocm/kernel-module-management-operator"),
              ChartImage("kmm.controller.manager.env.relatedImageBuild", "gcr.io/kaniko-project/executor:v1.23.2",
                         prefix=False),
              ChartImage("kmm.controller.manager.env.relatedImageSign",
                         "docker.io/rocm/kernel-module-management-signimage:latest", prefix=False),
              ChartImage("kmm.controller.manager.env.relatedImageWorker",
                         "docker.io/rocm/kernel-module-management-worker:latest", prefix=False),
              ChartImage("kmm.webhookServer.webhookServer.image.repository",
                         "docker.io/rocm/kernel-module-management-webhook-server"),
              _NFD_IMAGE,
          ),
          provides=("amd.com", "kmm.sigs.x-k8s.io", NFD_GROUP), requires=("cert-manager.io", NFD_GROUP),
          nfd_key="node-feature-discovery.enabled", namespace_labels=_PRIVILEGED),
    # published only as a package (no source to read its values.yaml from): its image keys are not verified,
    # so an air-gapped site refuses it instead of pulling from vault.habana.ai
    AddOn("habana-ai-operator", "habana-ai-operator", "1.22.0",
          "https://vault.habana.ai/artifactory/api/helm/gaudi-helm", "habana-ai-operator", vendor_operator,
          images=None, provides=("habanalabs.habana.ai",), namespace_labels=_PRIVILEGED),
    # charts/device-plugin-operator at 0.34.0: image "<manager.image.hub>/intel-deviceplugin-operator:<tag>";
    # its webhook serving certificate is a cert-manager Certificate
    AddOn("intel-device-plugins-operator", "intel-device-plugins-operator", "0.34.0",
          "https://intel.github.io/helm-charts", "inteldeviceplugins-system", vendor_operator,
          images=(ChartImage("manager.image.hub", "intel"),), provides=("deviceplugin.intel.com",),
          requires=("cert-manager.io",), namespace_labels=_PRIVILEGED),
    # keda/values.yaml at 2.17.2: image "<image.X.registry>/<image.X.repository>:<tag>"
    AddOn("keda", "keda", "2.17.2", "https://kedacore.github.io/charts", "keda", operators_flag("keda"),
          images=tuple(ChartImage(f"image.{c}.registry", "ghcr.io") for c in ("keda", "metricsApiServer", "webhooks")),
          provides=("keda.sh", "eventing.keda.sh")),
)}


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


__all__ = ["ADDONS", "NFD_GROUP", "AddOn", "ChartImage", "Condition", "addon", "operators_flag", "site_addons",
           "vendor_operator"]
