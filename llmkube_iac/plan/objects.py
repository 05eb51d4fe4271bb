"""What a registered resource is, for everyone who reads registrations back (pure).

The components register llmkube components and Kubernetes objects; the offline renderer records
them, the policy rules judge them (offline and under CrossGuard). All of them must agree on which
resource is a Kubernetes object, which site it belongs to and what its wire values mean, so those
answers live here once:

- the type tokens of our components and of Helm charts;
- `is_kubernetes_object`: a type token + props that are one manifest (not a chart or the provider);
- `is_builtin_api`: built-in Kubernetes API groups (typed pulumi-kubernetes classes) vs custom resources;
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
COMPONENT_PREFIX = "llmkube:index:"
CHART_TYPES = ("kubernetes:helm.sh/v4:Chart", "kubernetes:helm.sh/v3:Chart", "kubernetes:helm.sh/v3:Release")


def is_builtin_api(api_version: str) -> bool:
    """True for the core group and `*.k8s.io` / dot-less groups (apps, batch, policy ...): kinds with a
    typed pulumi-kubernetes class; False for custom resources (keda.sh, monitoring.coreos.com ...)."""
    group = api_version.rpartition("/")[0]
    return not group or "." not in group or group.endswith(".k8s.io")


def is_kubernetes_object(resource_type: str, props: Any) -> bool:
    """A registered Kubernetes object, typed or custom: a `kubernetes:` type whose props are a manifest.
    Helm charts and releases are components that expand elsewhere; the provider is `pulumi:providers:`."""
    return (resource_type.startswith("kubernetes:") and not resource_type.startswith("kubernetes:helm.sh")
            and isinstance(props, Mapping) and "kind" in props)


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


class Registered(Protocol):
    urn: str
    type: str
    props: Any
    parent: str | None


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
