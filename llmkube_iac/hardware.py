"""THE accelerator dispatch table: everything that differs between vendors lives in one entry.

Adding a vendor is one `VendorProfile` here; the spec validates `vendor` against this table when a
config is read, and planners, runtimes and policies look vendors up and never switch on their
names. A vendor's device operator is an add-on (addons.py) that the vendor names.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class VendorProfile:
    name: str
    resource_key: str | None  # extended resource the device plugin advertises; None = no device
    image_flavour: str  # which image a runtime picks for this vendor
    node_selector: dict[str, str]  # labels the vendor's operator / NFD puts on nodes with devices
    product_label: str | None  # node label carrying the device model (for accelerator.product)
    tolerations: tuple[dict, ...]
    env: dict[str, str]  # environment every container on this vendor needs (never what the device plugin sets)
    multi_device_env: dict[str, str]  # added when a replica gets more than one device
    visible_devices_env: str | None  # set to "0,1,..,n-1" so the runtime sees exactly its devices
    needs_shm: bool  # multi-device collectives use /dev/shm (NCCL/RCCL/HCCL): mount a memory emptyDir
    supplemental_groups: tuple[int, ...]  # device node groups (video/render) for a non-root user
    metrics_exporter: str | None
    operator: str | None  # name of its device operator in addons.ADDONS (installed with operators.gpuOperators)
    schedulable: bool = True  # False: not a Kubernetes pod (metal hosts run the metal-agent)
    # series its metrics exporter publishes per device: "memory_used" in "memory_unit" ("mbytes": MiB, or
    # "bytes"), "utilisation" in "utilisation_unit" ("percent", the default, or "ratio": 0..1); dashboards
    # read them (plan/observability.py), nothing else names an exporter's metrics
    device_metrics: dict[str, str] = field(default_factory=dict)

    def visible_devices(self, count: int) -> dict[str, str]:
        if not self.visible_devices_env or count < 1:
            return {}
        return {self.visible_devices_env: ",".join(str(i) for i in range(count))}

    def product_value(self, product: str) -> str:
        """Node-label form of a product name ("NVIDIA H100 80GB" -> "NVIDIA-H100-80GB")."""
        return "-".join(product.split())


def _taint_toleration(key: str) -> tuple[dict, ...]:
    return ({"key": key, "operator": "Exists", "effect": "NoSchedule"},)


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
        operator="gpu-operator",
        device_metrics={
            "memory_used": "DCGM_FI_DEV_FB_USED",
            "memory_unit": "mbytes",
            "utilisation": "DCGM_FI_DEV_GPU_UTIL",
        },
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
        operator="amd-gpu-operator",
        device_metrics={"memory_used": "gpu_used_vram", "memory_unit": "mbytes", "utilisation": "gpu_gfx_activity"},
    ),
    "intel-gaudi": VendorProfile(
        name="intel-gaudi",
        resource_key="habana.ai/gaudi",
        image_flavour="gaudi",
        node_selector={"habana.ai/gaudi": "true"},
        product_label="habana.ai/gaudi.product",
        tolerations=_taint_toleration("habana.ai/gaudi"),
        # No HABANA_VISIBLE_DEVICES here: the Habana device plugin sets it (with HL_VISIBLE_DEVICES and
        # HABANA_VISIBLE_MODULES) to the cards it allocated, and the pod's own env would override it, so
        # "all" made the Habana container runtime expose every card of the node to the pod.
        env={"OMPI_MCA_btl_vader_single_copy_mechanism": "none"},
        multi_device_env={"PT_HPU_ENABLE_LAZY_COLLECTIVES": "true"},
        visible_devices_env=None,  # the device plugin sets HABANA_VISIBLE_DEVICES to the allocated cards
        needs_shm=True,
        supplemental_groups=(),
        # the Gaudi metric exporter (deployed by the Habana operator's ClusterPolicy; no Helm chart of its own)
        metrics_exporter="habana-metric-exporter",
        operator="habana-ai-operator",
        device_metrics={
            "memory_used": "habanalabs_memory_used_bytes",
            "memory_unit": "bytes",
            "utilisation": "habanalabs_utilization",
        },
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
        metrics_exporter="intel-xpumd",  # XPU Manager's daemon (an OpenTelemetry collector), the add-on
        operator="intel-device-plugins-operator",
        # OpenTelemetry hw.memory.usage (By) and hw.gpu.utilization (1, one series per engine) as Prometheus names
        device_metrics={
            "memory_used": "hw_memory_usage_bytes",
            "memory_unit": "bytes",
            "utilisation": "hw_gpu_utilization_ratio",
            "utilisation_unit": "ratio",
        },
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


DEFAULT_VENDOR = "cpu"  # a service that names no accelerator runs here


def vendor(name: str) -> VendorProfile:
    try:
        return VENDORS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown accelerator vendor {name!r}; valid: {', '.join(VENDORS)}") from None


def device_env(profile: VendorProfile, count: int) -> dict[str, str]:
    """All vendor environment for a replica with `count` devices, in a stable order."""
    env = dict(profile.env)
    env.update(profile.visible_devices(count))
    if count > 1:
        env.update(profile.multi_device_env)
    return env
