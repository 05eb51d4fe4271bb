"""Which API group each object belongs to, who provides the groups no API server serves, which kinds
are namespaced and which namespaces every cluster has.

A custom resource only applies where its CRD is installed, and a namespaced object only where its
namespace exists. The planner orders objects by these facts and the offline cluster model refuses
a plan that breaks them; both read them here (the built-in groups: plan/objects.py). Pure: no pulumi.
"""

from __future__ import annotations

from .objects import is_builtin_api

# what installs a group no add-on of the site provides: named in the fix of a refused plan
KNOWN_PROVIDERS = {
    "monitoring.coreos.com": "the Prometheus operator (e.g. kube-prometheus-stack)",
    "cert-manager.io": "cert-manager",
    "keda.sh": "KEDA (site.operators.keda)",
    "nvidia.com": "the NVIDIA GPU operator (site.operators.gpuOperators)",
    "amd.com": "the AMD GPU operator (site.operators.gpuOperators)",
    "nfd.k8s-sigs.io": "Node Feature Discovery (bundled with the GPU operators)",
    "gateway.networking.k8s.io": "the Gateway API CRDs",
}

# built-in kinds that are not namespaced (custom resources are namespaced unless listed by their add-on)
CLUSTER_SCOPED_KINDS = frozenset(
    {
        "Namespace",
        "Node",
        "PersistentVolume",
        "PriorityClass",
        "StorageClass",
        "CSIDriver",
        "CSINode",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "APIService",
        "IngressClass",
        "RuntimeClass",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "VolumeAttachment",
        "CertificateSigningRequest",
        "FlowSchema",
        "PriorityLevelConfiguration",
        "DeviceClass",
    }
)

# namespaces every cluster has
SYSTEM_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})


def api_group(api_version: str) -> str:
    """`monitoring.coreos.com/v1` -> `monitoring.coreos.com`; `v1` -> `` (core)."""
    group, _, _ = api_version.rpartition("/")
    return group


def is_namespaced(manifest: dict) -> bool:
    """Built-in kinds by the table; custom resources by whether they carry a namespace."""
    if is_builtin_api(manifest.get("apiVersion", "")):
        return manifest.get("kind") not in CLUSTER_SCOPED_KINDS
    return bool((manifest.get("metadata") or {}).get("namespace"))


def provider_hint(group: str) -> str:
    return KNOWN_PROVIDERS.get(group, f"the operator that installs the {group} CRDs")
