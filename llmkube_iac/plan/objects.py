"""What a registered resource is, for everyone who reads registrations back (pure).

The components register llmkube components and Kubernetes objects; the offline renderer records
them, the policy rules judge them (offline and under CrossGuard). All of them must agree on which
resource is a Kubernetes object, which site it belongs to and what its wire values mean, so those
answers live here once:

- the type tokens of our components and of Helm charts;
- `is_kubernetes_object`: a type token + props that are one manifest (not a chart or the provider);
- `is_builtin_api`: API groups every API server serves (typed pulumi-kubernetes classes) vs custom resources;
- `rendered_by_chart`: an object a Helm chart rendered (third party: judged through its add-on);
- `plain`: wire values as plain JSON (the Pulumi wire has only floats: 2.0 -> 2);
- `own_site` / `site_of`: the site a resource names, itself or through its parents.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from .meta import SITE_LABEL

SITE_TYPE = "llmkube:index:Site"
MODEL_TYPE = "llmkube:index:Model"
SERVICE_TYPE = "llmkube:index:InferenceService"
ROUTER_TYPE = "llmkube:index:Router"
FLEET_TYPE = "llmkube:index:Fleet"
ADDON_TYPE = "llmkube:index:AddOn"  # an add-on chart's declaration (components/addon.py)
COMPONENT_PREFIX = "llmkube:index:"
CHART_TYPES = (
    "kubernetes:helm.sh/v4:Chart",
    "kubernetes:helm.sh/v3:Chart",
    "kubernetes:helm.sh/v3:Release",
    "kubernetes-cert-manager:index:CertManager",
)  # the last keeps its chart in helmOptions

# groups the Kubernetes API server itself serves (core is ""); `*.k8s.io` alone does not make one built in:
# gateway.networking.k8s.io and snapshot.storage.k8s.io are CRDs somebody has to install
BUILTIN_GROUPS = frozenset(
    {
        "",
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "apiregistration.k8s.io",
        "apps",
        "authentication.k8s.io",
        "authorization.k8s.io",
        "autoscaling",
        "batch",
        "certificates.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "events.k8s.io",
        "flowcontrol.apiserver.k8s.io",
        "internal.apiserver.k8s.io",
        "networking.k8s.io",
        "node.k8s.io",
        "policy",
        "rbac.authorization.k8s.io",
        "resource.k8s.io",
        "scheduling.k8s.io",
        "storage.k8s.io",
        "storagemigration.k8s.io",
    }
)


def is_builtin_api(api_version: str) -> bool:
    """True for the groups every API server serves (core, apps, batch, networking.k8s.io ...): kinds with a
    typed pulumi-kubernetes class; False for custom resources (keda.sh, monitoring.coreos.com ...)."""
    return api_version.rpartition("/")[0] in BUILTIN_GROUPS


def rendered_by_chart(urn: str) -> bool:
    """An object a Helm chart rendered. Under the engine a chart's objects are registered as the chart's
    children, so the type chain of their URN names it (`...$kubernetes:helm.sh/v4:Chart$kubernetes:apps/v1:
    Deployment::...`). They are third party: the rules judge what this library authors, and judge an add-on
    by its declaration (chart reference, image values) instead."""
    parts = urn.split("::")
    if len(parts) < 4:
        return False
    return any(t in CHART_TYPES for t in parts[2].split("$")[:-1])


def is_kubernetes_object(resource_type: str, props: Any) -> bool:
    """A registered Kubernetes object, typed or custom: a `kubernetes:` type whose props are a manifest.
    Helm charts and releases are components that expand elsewhere; the provider is `pulumi:providers:`."""
    return (
        resource_type.startswith("kubernetes:")
        and not resource_type.startswith("kubernetes:helm.sh")
        and isinstance(props, Mapping)
        and "kind" in props
    )


def plain(value):
    """Deep-copy wire values (dicts, lists, CrossGuard's Mapping/Sequence proxies) into plain dicts and
    lists, turning integral floats back into ints (the wire has only floats: 2.0 -> 2)."""
    kind = type(value)  # exact-type fast paths: ABC checks dominate on large plans
    if kind is str or kind is bool or kind is int or value is None:
        return value
    if kind is dict:
        return {str(k): plain(v) for k, v in value.items()}
    if kind is list:
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return [plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def own_site(resource_type: str, props: Any) -> str | None:
    """The site a resource names itself: a Site's spec name, a component's `site` prop, an object's
    site label. None when it names none (its parent's site then applies)."""
    if not isinstance(props, Mapping):
        return None
    if resource_type == SITE_TYPE and isinstance(props.get("spec"), Mapping):
        return props["spec"].get("name")
    if isinstance(props.get("site"), str):
        return props["site"]
    meta = props.get("metadata")
    labels = meta.get("labels") if isinstance(meta, Mapping) else None
    return labels.get(SITE_LABEL) if isinstance(labels, Mapping) else None


class Registered(Protocol):  # read-only members: frozen dataclasses (policy.base.Res) satisfy it
    @property
    def urn(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def props(self) -> Any: ...
    @property
    def parent(self) -> str | None: ...


def site_of(resource: Registered, parent_of: Callable[[str], Registered | None]) -> str | None:
    """The resource's own site, else its nearest ancestor's (`parent_of` looks a URN up)."""
    seen: set[str] = set()
    r: Registered | None = resource
    while r is not None and r.urn not in seen:
        seen.add(r.urn)
        site = own_site(r.type, r.props)
        if site is not None:
            return site
        r = parent_of(r.parent) if r.parent else None
    return None
