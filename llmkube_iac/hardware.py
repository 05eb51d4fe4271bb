"""THE accelerator dispatch table: everything that differs between vendors lives in one entry.

Adding a vendor is one `VendorProfile` here; planners, runtimes and policies look vendors up and
never switch on their names.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ChartImage:
    """One values key of a pinned chart that names where an image is pulled from.

    `default` is the key's value in that chart version's values.yaml. A `prefix` is a registry
    (or registry/path) the chart joins with an image name; otherwise it is a whole reference."""

    key: str  # dotted values path, e.g. "image.keda.registry"
    default: str
    prefix: bool = True


@dataclass(frozen=True)
class OperatorChart:
    """The Helm chart a vendor's device plugin / operator ships as (pinned), and what it needs.

    `images` lists every image key of the pinned values.yaml, so an air-gapped site can rewrite
    them to its mirrors (None: not verified, so an air-gapped site refuses the chart).
    `provides` / `requires` are API groups: the CRDs the chart installs and those it needs from
    elsewhere (the cluster model checks both). `nfd_key` switches off the Node Feature Discovery
    the chart bundles, when another operator at the site already runs it."""

    name: str  # Helm release name
    chart: str
    version: str
    repository: str
    namespace: str
    values: dict = field(default_factory=dict)
    images: tuple[ChartImage, ...] | None = ()
    provides: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    nfd_key: str | None = None
    namespace_labels: dict = field(default_factory=dict)


@dataclass(frozen=True)
class VendorProfile:
    name: str
    resource_key: str | None  # extended resource the device plugin advertises; None = no device
    image_flavour: str  # which image a runtime picks for this vendor
    node_selector: dict[str, str]  # labels the vendor's operator / NFD puts on nodes with devices
    product_label: str | None  # node label carrying the device model (for accelerator.product)
    tolerations: tuple[dict, ...]
    env: dict[str, str]  # environment every container on this vendor needs
    multi_device_env: dict[str, str]  # added when a replica gets more than one device
    visible_devices_env: str | None  # set to "0,1,..,n-1" so the runtime sees exactly its devices
    needs_shm: bool  # multi-device collectives use /dev/shm (NCCL/RCCL/HCCL): mount a memory emptyDir
    supplemental_groups: tuple[int, ...]  # device node groups (video/render) for a non-root user
    metrics_exporter: str | None
    operator: OperatorChart | None
    schedulable: bool = True  # False: not a Kubernetes pod (metal hosts run the metal-agent)

    def visible_devices(self, count: int) -> dict[str, str]:
        if not self.visible_devices_env or count < 1:
            return {}
        return {self.visible_devices_env: ",".join(str(i) for i in range(count))}

    def product_value(self, product: str) -> str:
        """Node-label form of a product name ("NVIDIA H100 80GB" -> "NVIDIA-H100-80GB")."""
        return "-".join(product.split())


def _taint_toleration(key: str) -> tuple[dict, ...]:
    return ({"key": key, "operator": "Exists", "effect": "NoSchedule"},)


# GPU operators run privileged DaemonSets (driver, toolkit, device plugin): their namespace must allow it
_PRIVILEGED = {"pod-security.kubernetes.io/enforce": "privileged"}
_NFD_IMAGE = ChartImage("node-feature-discovery.image.repository", "registry.k8s.io/nfd/node-feature-discovery")
NFD_GROUP = "nfd.k8s-sigs.io"


def _nvcr(*keys: str) -> tuple[ChartImage, ...]:
    """gpu-operator values: each component's `repository` is joined with `image:version`."""
    return tuple(ChartImage(f"{k}.repository", f"nvcr.io/nvidia{sub}") for k, sub in
                 (kv.split("=") if "=" in kv else (kv, "") for kv in keys))


VENDORS: dict[str, VendorProfile] = {
    "nvidia": VendorProfile(
        name="nvidia",
        resource_key="nvidia.com/gpu",
        image_flavour="cuda",
        node_selector={"nvidia.com/gpu.present": "true"},
        product_label="nvidia.com/gpu.product",
        tolerations=_taint_toleration("nvidia.com/gpu"),
        env={"NVIDIA_DRIVER_CAPABILITIES": "compute,utility"},
        multi_device_env={"NCCL_CUMEM_ENABLE": "0"},
        visible_devices_env=None,  # the device plugin sets NVIDIA_VISIBLE_DEVICES itself
        needs_shm=True,
        supplemental_groups=(),
        metrics_exporter="dcgm-exporter",
        # values keys from deployments/gpu-operator/values.yaml at v25.3.4 (NFD v0.17.3 is a subchart)
        operator=OperatorChart(
            "gpu-operator", "gpu-operator", "v25.3.4", "https://helm.ngc.nvidia.com/nvidia", "gpu-operator",
            images=_nvcr(
                "validator=/cloud-native", "operator", "operator.initContainer", "driver",
                "driver.manager=/cloud-native", "toolkit=/k8s", "devicePlugin", "dcgm=/cloud-native",
                "dcgmExporter=/k8s", "gfd", "migManager=/cloud-native", "nodeStatusExporter=/cloud-native",
                "gds=/cloud-native", "gdrcopy=/cloud-native", "vgpuManager.driverManager=/cloud-native",
                "vgpuDeviceManager=/cloud-native", "vfioManager", "vfioManager.driverManager=/cloud-native",
                "kataManager=/cloud-native", "sandboxDevicePlugin", "ccManager=/cloud-native",
            ) + (_NFD_IMAGE,),
            provides=("nvidia.com", NFD_GROUP), nfd_key="nfd.enabled", namespace_labels=_PRIVILEGED,
        ),
    ),
    "amd": VendorProfile(
        name="amd",
        resource_key="amd.com/gpu",
        image_flavour="rocm",
        node_selector={"feature.node.kubernetes.io/amd-gpu": "true"},
        product_label="amd.com/gpu.product-name",
        tolerations=_taint_toleration("amd.com/gpu"),
        env={"HSA_NO_SCRATCH_RECLAIM": "1"},
        multi_device_env={"NCCL_MIN_NCHANNELS": "112"},
        visible_devices_env="HIP_VISIBLE_DEVICES",
        needs_shm=True,
        supplemental_groups=(44,),  # video: /dev/kfd and /dev/dri for a non-root user
        metrics_exporter="amd-device-metrics-exporter",
        # values keys from helm-charts-k8s/values.yaml and charts/kmm/values.yaml for v1.3.0; the KMM subchart's
        # webhook certificate is a cert-manager Certificate, and its default NodeFeatureRule needs NFD's CRDs
        operator=OperatorChart(
            "amd-gpu-operator", "gpu-operator-charts", "v1.3.0", "https://rocm.github.io/gpu-operator", "kube-amd-gpu",
            images=(
                ChartImage("controllerManager.manager.image.repository", "docker.io/rocm/gpu-operator"),
                ChartImage("deviceConfig.spec.commonConfig.initContainerImage", "busybox:1.36", prefix=False),
                ChartImage("deviceConfig.spec.commonConfig.utilsContainer.image",
                           "docker.io/rocm/gpu-operator-utils:v1.2.1", prefix=False),
                ChartImage("deviceConfig.spec.devicePlugin.devicePluginImage", "rocm/k8s-device-plugin:latest",
                           prefix=False),
                ChartImage("deviceConfig.spec.devicePlugin.nodeLabellerImage",
                           "rocm/k8s-device-plugin:labeller-latest", prefix=False),
                ChartImage("deviceConfig.spec.metricsExporter.image", "rocm/device-metrics-exporter:v1.3.0",
                           prefix=False),
                ChartImage("deviceConfig.spec.metricsExporter.rbacConfig.image",
                           "quay.io/brancz/kube-rbac-proxy:v0.18.1", prefix=False),
                ChartImage("deviceConfig.spec.testRunner.image", "docker.io/rocm/test-runner:v1.3.0", prefix=False),
                ChartImage("deviceConfig.spec.configManager.image", "rocm/device-config-manager:v1.3.0", prefix=False),
                ChartImage("kmm.controller.manager.image.repository",
                           "docker.io/rocm/kernel-module-management-operator"),
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
            nfd_key="node-feature-discovery.enabled", namespace_labels=_PRIVILEGED,
        ),
    ),
    "intel-gaudi": VendorProfile(
        name="intel-gaudi",
        resource_key="habana.ai/gaudi",
        image_flavour="gaudi",
        node_selector={"habana.ai/gaudi": "true"},
        product_label="habana.ai/gaudi.product",
        tolerations=_taint_toleration("habana.ai/gaudi"),
        env={"HABANA_VISIBLE_DEVICES": "all", "OMPI_MCA_btl_vader_single_copy_mechanism": "none"},
        multi_device_env={"PT_HPU_ENABLE_LAZY_COLLECTIVES": "true"},
        visible_devices_env=None,  # HABANA_VISIBLE_DEVICES=all: the device plugin mounts only ours
        needs_shm=True,
        supplemental_groups=(),
        metrics_exporter="habana-metric-exporter",
        # the chart is published only as a package (no source to read its values.yaml from): its image keys are
        # not verified, so an air-gapped site refuses it instead of pulling from vault.habana.ai
        operator=OperatorChart(
            "habana-ai-operator", "habana-ai-operator", "1.22.0",
            "https://vault.habana.ai/artifactory/api/helm/gaudi-helm", "habana-ai-operator", images=None, provides=("habanalabs.habana.ai",), namespace_labels=_PRIVILEGED,
        ),
    ),
    "intel-xpu": VendorProfile(
        name="intel-xpu",
        resource_key="gpu.intel.com/i915",
        image_flavour="sycl",
        node_selector={"intel.feature.node.kubernetes.io/gpu": "true"},
        product_label="gpu.intel.com/product",
        tolerations=_taint_toleration("gpu.intel.com/i915"),
        env={"ZES_ENABLE_SYSMAN": "1", "ONEAPI_DEVICE_SELECTOR": "level_zero:*"},
        multi_device_env={},
        visible_devices_env=None,  # the device plugin exposes only the allocated cards
        needs_shm=True,
        supplemental_groups=(44,),
        metrics_exporter="xpumanager",
        # charts/device-plugin-operator at 0.34.0: image "<manager.image.hub>/intel-deviceplugin-operator"; its
        # webhook serving certificate is a cert-manager Certificate
        operator=OperatorChart(
            "intel-device-plugins-operator", "intel-device-plugins-operator", "0.34.0",
            "https://intel.github.io/helm-charts", "inteldeviceplugins-system",
            images=(ChartImage("manager.image.hub", "intel"),), provides=("deviceplugin.intel.com",),
            requires=("cert-manager.io",), namespace_labels=_PRIVILEGED,
        ),
    ),
    "cpu": VendorProfile(
        name="cpu",
        resource_key=None,
        image_flavour="cpu",
        node_selector={},
        product_label=None,
        tolerations=(),
        env={},
        multi_device_env={},
        visible_devices_env=None,
        needs_shm=False,
        supplemental_groups=(),
        metrics_exporter=None,
        operator=None,
    ),
    "metal": VendorProfile(
        name="metal",
        resource_key=None,
        image_flavour="metal",
        node_selector={},
        product_label=None,
        tolerations=(),
        env={},
        multi_device_env={},
        visible_devices_env=None,
        needs_shm=False,
        supplemental_groups=(),
        metrics_exporter="llmkube-metal-agent",
        operator=None,
        schedulable=False,
    ),
}


def vendor(name: str) -> VendorProfile:
    try:
        return VENDORS[name]
    except KeyError:
        raise ValueError(f"unknown accelerator vendor {name!r}; valid: {', '.join(VENDORS)}") from None


def device_env(profile: VendorProfile, count: int) -> dict[str, str]:
    """All vendor environment for a replica with `count` devices, in a stable order."""
    env = dict(profile.env)
    env.update(profile.visible_devices(count))
    if count > 1:
        env.update(profile.multi_device_env)
    return env
