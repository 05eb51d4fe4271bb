"""Register wire-form manifests as pulumi-kubernetes resources (one resource per manifest).

Built-in kinds use their typed class (so the engine, previews and policies see real types);
custom resources use CustomResource; our Helm pseudo-manifests become helm.v4.Chart.
"""
from __future__ import annotations

import re
from collections import Counter

import pulumi
import pulumi_kubernetes as k8s

from ..plan.objects import is_builtin_api
from ..plan.site import HELM_API

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")
# Workloads whose readiness pulumi-kubernetes awaits: model loads and downloads take long.
TIMEOUTS = {
    "Deployment": pulumi.CustomTimeouts(create="30m", update="30m"),
    "Job": pulumi.CustomTimeouts(create="6h", update="6h"),
}


def _snake(key: str) -> str:
    return _CAMEL.sub("_", key).lower()


def resource_class(api_version: str, kind: str):
    """The typed pulumi_kubernetes class for a built-in kind, or None for custom resources."""
    if not is_builtin_api(api_version):
        return None  # a CRD group (keda.sh, monitoring.coreos.com, cert-manager.io ...)
    group, _, version = api_version.rpartition("/")
    module = getattr(k8s, (group or "core").split(".")[0], None)
    return getattr(getattr(module, version, None), kind, None)


def logical_names(component: str, manifests: list[dict]) -> list[str]:
    """`<component>-<kind>`; a kind the component makes several of gets `-<metadata.name>`."""
    counts = Counter(m["kind"] for m in manifests)
    names = []
    for m in manifests:
        kind = "chart" if m["apiVersion"] == HELM_API else m["kind"].lower()
        suffix = f"-{m['metadata']['name']}" if counts[m["kind"]] > 1 else ""
        names.append(f"{component}-{kind}{suffix}")
    return names


def register_manifest(name: str, manifest: dict, opts: pulumi.ResourceOptions) -> pulumi.Resource:
    api_version, kind = manifest["apiVersion"], manifest["kind"]
    if api_version == HELM_API:
        spec = manifest["spec"]
        repo = k8s.helm.v4.RepositoryOptsArgs(repo=spec["repository"]) if spec.get("repository") else None
        return k8s.helm.v4.Chart(name, chart=spec["chart"], version=spec["version"], repository_opts=repo,
                                 namespace=manifest["metadata"].get("namespace"), values=spec.get("values") or None,
                                 opts=opts)
    if kind in TIMEOUTS:
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(custom_timeouts=TIMEOUTS[kind]))
    cls = resource_class(api_version, kind)
    body = {k: v for k, v in manifest.items() if k not in ("apiVersion", "kind")}
    if cls is None:
        return k8s.apiextensions.CustomResource(name, api_version=api_version, kind=kind, opts=opts, **body)
    return cls(name, opts=opts, **{_snake(k): v for k, v in body.items()})


def register_manifests(parent: pulumi.Resource, component: str, manifests: list[dict],
                       opts: pulumi.ResourceOptions | None = None) -> dict[str, pulumi.Resource]:
    """Register each manifest as a child of `parent`; returns them by logical name."""
    base = pulumi.ResourceOptions(parent=parent)
    if opts:
        base = pulumi.ResourceOptions.merge(base, opts)
    return {name: register_manifest(name, m, base) for name, m in zip(logical_names(component, manifests), manifests)}
