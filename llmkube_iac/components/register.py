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


def _cert_manager(name: str, manifest: dict, opts: pulumi.ResourceOptions) -> pulumi.Resource:
    """cert-manager through pulumi-kubernetes-cert-manager: a provider-side component (plugin
    kubernetes-cert-manager) wrapping the chart; its images are typed inputs, the rest helmOptions."""
    import pulumi_kubernetes_cert_manager as certmanager

    spec, ns = manifest["spec"], manifest["metadata"].get("namespace")
    values = dict(spec.get("values") or {})
    typed = {k: values.pop(k) for k in ("image", "webhook", "cainjector", "startupapicheck") if k in values}
    values.pop("crds", None)  # install_crds below
    repo = certmanager.RepositoryOptsArgs(repo=spec["repository"]) if spec.get("repository") else None
    helm = certmanager.ReleaseArgs(chart=spec["chart"], version=spec["version"], namespace=ns,
                                   repository_opts=repo, values=values or None)
    return certmanager.CertManager(name, install_crds=True, helm_options=helm, opts=opts, **typed)


def register_manifest(name: str, manifest: dict, opts: pulumi.ResourceOptions) -> pulumi.Resource:
    api_version, kind = manifest["apiVersion"], manifest["kind"]
    if api_version == HELM_API:
        spec = manifest["spec"]
        if spec.get("registration") == "cert-manager":
            return _cert_manager(name, manifest, opts)
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


def stable_names(component: str, manifests: list[dict]) -> list[str]:
    """`<component>-<kind>[-<namespace>]-<metadata.name>`: never depends on what else the plan holds."""
    names = []
    for m in manifests:
        kind = "chart" if m["apiVersion"] == HELM_API else m["kind"].lower()
        ns = m["metadata"].get("namespace")
        names.append("-".join(p for p in (component, kind, ns, m["metadata"]["name"]) if p))
    return names


class Ordered:
    """Dependencies between objects of one stack: an object waits for its namespace and for the add-on
    charts that provide its API group (or, for a chart, the groups it `needs`)."""

    def __init__(self):
        self.namespaces: dict[str, pulumi.Resource] = {}
        self.providers: dict[str, list[pulumi.Resource]] = {}

    def deps(self, m: dict) -> list[pulumi.Resource]:
        out = []
        ns = m["metadata"].get("namespace")
        if ns in self.namespaces:
            out.append(self.namespaces[ns])
        if m["apiVersion"] == HELM_API:
            groups = m["spec"].get("needs") or []
        else:
            groups = [m["apiVersion"].rpartition("/")[0]]
        for g in groups:
            out += self.providers.get(g, [])
        return out

    def record(self, m: dict, res: pulumi.Resource) -> None:
        if m["kind"] == "Namespace":
            self.namespaces[m["metadata"]["name"]] = res
        if m["apiVersion"] == HELM_API:
            for g in m["spec"].get("provides") or []:
                self.providers.setdefault(g, []).append(res)

    def register(self, parent: pulumi.Resource, names: list[str], manifests: list[dict],
                 opts: pulumi.ResourceOptions | None = None) -> dict[str, pulumi.Resource]:
        base = pulumi.ResourceOptions(parent=parent)
        if opts:
            base = pulumi.ResourceOptions.merge(base, opts)
        out = {}
        for name, m in zip(names, manifests):
            deps = self.deps(m)
            o = pulumi.ResourceOptions.merge(base, pulumi.ResourceOptions(depends_on=deps)) if deps else base
            out[name] = register_manifest(name, m, o)
            self.record(m, out[name])
        return out


def register_manifests(parent: pulumi.Resource, component: str, manifests: list[dict],
                       opts: pulumi.ResourceOptions | None = None,
                       order: Ordered | None = None) -> dict[str, pulumi.Resource]:
    """Register each manifest as a child of `parent` (in order: see `Ordered`); returns them by logical name."""
    return (order or Ordered()).register(parent, logical_names(component, manifests), manifests, opts)
