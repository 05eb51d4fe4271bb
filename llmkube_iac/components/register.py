"""Register wire-form manifests as pulumi-kubernetes resources (one resource per manifest).

Built-in kinds use their typed class (so the engine, previews and policies see real types);
custom resources use CustomResource; chart pseudo-manifests become an `AddOn` holding a
helm.v4.Chart. Logical names are a pure function of each object's identity, so adding an object
never renames another (the engine would create the renamed one before deleting the old and hit
AlreadyExists); objects are registered after what they need (plan/ordering.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pulumi
import pulumi_kubernetes as k8s

from ..plan.charts import is_chart
from ..plan.objects import is_builtin_api
from ..plan.ordering import apply_order, prerequisites
from .addon import AddOn

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")
# Workloads whose readiness pulumi-kubernetes awaits: model loads and downloads take long.
TIMEOUTS = {
    "Deployment": pulumi.CustomTimeouts(create="30m", update="30m"),
    "Job": pulumi.CustomTimeouts(create="6h", update="6h"),
}
# Custom resources pulumi-kubernetes does not await by itself: what "ready" means for them
# (the pulumi.com/waitFor annotation, pulumi-kubernetes >= 4.18)
WAIT_FOR = {("cert-manager.io", "Certificate"): "condition=Ready"}
# What a provider replacement (a new kubeconfig or context) must not delete: the namespaces and the model caches
PROTECTED_KINDS = frozenset({("v1", "Namespace"), ("v1", "PersistentVolumeClaim")})


def _snake(key: str) -> str:
    return _CAMEL.sub("_", key).lower()


def resource_class(api_version: str, kind: str):
    """The typed pulumi_kubernetes class for a built-in kind, or None for custom resources."""
    if not is_builtin_api(api_version):
        return None  # a CRD group (keda.sh, monitoring.coreos.com, cert-manager.io ...)
    group, _, version = api_version.rpartition("/")
    module = getattr(k8s, (group or "core").split(".")[0], None)
    return getattr(getattr(module, version, None), kind, None)


def logical_name(component: str, m: dict) -> str:
    """`<component>-<kind>[-<namespace>]-<name>`; charts `<component>-addon-<release>`."""
    meta = m["metadata"]
    if is_chart(m):
        return f"{component}-addon-{meta['name']}"
    kind, ns = m["kind"].lower(), meta.get("namespace")
    return f"{component}-{kind}-{ns}-{meta['name']}" if ns else f"{component}-{kind}-{meta['name']}"


def logical_names(component: str, manifests: list[dict]) -> list[str]:
    names = [logical_name(component, m) for m in manifests]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:  # two objects with one identity: a planner bug, never a rename
        raise ValueError(f"{component}: more than one object named {', '.join(dupes)}")
    return names


def _with_wait_for(manifest: dict) -> dict:
    group = manifest["apiVersion"].rpartition("/")[0]
    condition = WAIT_FOR.get((group, manifest["kind"]))
    if condition is None:
        return manifest
    meta = dict(manifest["metadata"])
    meta["annotations"] = {**(meta.get("annotations") or {}), "pulumi.com/waitFor": condition}
    return {**manifest, "metadata": meta}


def _constructor(
    manifest: dict, opts: pulumi.ResourceOptions, site: str = "", protect: bool = True, component: str = ""
) -> tuple[Callable[..., pulumi.Resource], dict]:
    """The class that registers one manifest and its keyword arguments (the logical name goes first). The
    caller constructs it: the SDK walks every frame above a constructor for each resource's source
    position, so no wrapper frame is added per resource."""
    api_version, kind = manifest["apiVersion"], manifest["kind"]
    if is_chart(manifest):  # the chart's own name prefixes its objects' names: keep it short
        chart_name = f"{component}-{manifest['metadata']['name']}" if component else manifest["metadata"]["name"]
        return AddOn, {"manifest": manifest, "site": site, "chart_name": chart_name, "opts": opts}
    extra = pulumi.ResourceOptions()
    if kind in TIMEOUTS:
        extra.custom_timeouts = TIMEOUTS[kind]
    if protect and (api_version, kind) in PROTECTED_KINDS:
        extra.protect = True
    opts = pulumi.ResourceOptions.merge(opts, extra)
    manifest = _with_wait_for(manifest)
    cls = resource_class(api_version, kind)
    body = {k: v for k, v in manifest.items() if k not in ("apiVersion", "kind")}
    if cls is None:
        return k8s.apiextensions.CustomResource, {"api_version": api_version, "kind": kind, "opts": opts, **body}
    return cls, {"opts": opts, **{_snake(k): v for k, v in body.items()}}


def register_manifest(
    name: str, manifest: dict, opts: pulumi.ResourceOptions, site: str = "", protect: bool = True, component: str = ""
) -> pulumi.Resource:
    """One manifest as one resource (register_manifests registers a component's list, in order)."""
    make, args = _constructor(manifest, opts, site, protect, component)
    return make(name, **args)


def register_manifests(
    parent: pulumi.Resource,
    component: str,
    manifests: list[dict],
    opts: pulumi.ResourceOptions | None = None,
    site: str = "",
    protect: bool = True,
) -> dict[str, pulumi.Resource]:
    """Register each manifest as a child of `parent`, after the ones it needs; returns them by logical name."""
    base = pulumi.ResourceOptions(parent=parent)
    if opts:
        base = pulumi.ResourceOptions.merge(base, opts)
    names = logical_names(component, manifests)
    deps = prerequisites(manifests)
    registered: dict[int, pulumi.Resource] = {}
    for i in apply_order(manifests):
        own = base
        if deps[i]:
            after = pulumi.ResourceOptions(depends_on=[registered[d] for d in deps[i]])
            own = pulumi.ResourceOptions.merge(base, after)
        make, args = _constructor(manifests[i], own, site, protect, component)
        registered[i] = make(names[i], **args)
    return {names[i]: registered[i] for i in range(len(manifests))}
