"""Site-wide objects: the namespace, priority classes, egress default-deny and operator charts.

Everything here belongs to the cluster rather than to one service; `plan/stack.py` combines it
with the models, services, routers and metal hosts into the whole-stack plan.
"""
from __future__ import annotations

from ..hardware import vendor
from ..spec import InferenceServiceSpec, SiteSpec
from .images import apply_site_images
from .meta import discovery_labels, manifest, metadata, standard_labels

PRIORITIES = {"critical": 1_000_000, "high": 100_000, "normal": 10_000, "low": 1_000, "batch": 100}
# Routers run above every inference priority: the scheduler never preempts a gateway pod to place a model server.
GATEWAY_PRIORITY_CLASS, GATEWAY_PRIORITY = "llmkube-gateway", 2_000_000
HELM_API = "llmkube.dev/v1"  # pseudo-manifest for a Helm release; the component registers a helm.v4.Chart
KEDA_CHART = ("keda", "keda", "2.17.2", "https://kedacore.github.io/charts", "keda")


def _labels(site: SiteSpec, name: str, component: str) -> dict:
    return {**standard_labels(name, site.name, component), **discovery_labels(site=site.name)}


def helm_release(name: str, chart: str, version: str, repository: str, namespace: str, site: SiteSpec,
                 values: dict | None = None) -> dict:
    """A chart reference; air-gapped sites with a chart registry pull it from there (oci://)."""
    spec: dict = {"chart": chart, "version": version, "repository": repository, "values": values or {}}
    if site.operators.chart_registry:
        spec["chart"] = f"oci://{site.operators.chart_registry}/{chart}"
        spec["repository"] = None
    return manifest(HELM_API, "HelmChart", metadata(name, namespace, _labels(site, name, "operator")), spec=spec)


def plan_site_base(site: SiteSpec, services: tuple[InferenceServiceSpec, ...] = (), routers: tuple = ()) -> list[dict]:
    ns = site.namespace
    out = [manifest("v1", "Namespace", metadata(ns, None, {
        **_labels(site, ns, "namespace"),
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest",
    }))]
    used = {s.priority for s in services} or {"normal"}
    for prio, value in PRIORITIES.items():
        if prio in used:
            body = {"value": value, "globalDefault": False,
                    "description": f"llmkube {prio} inference workloads"}
            if prio == "batch":
                body["preemptionPolicy"] = "Never"
            out.append(manifest("scheduling.k8s.io/v1", "PriorityClass",
                                metadata(f"llmkube-{prio}", None, _labels(site, f"llmkube-{prio}", "priority")), **body))
    if routers:
        out.append(manifest("scheduling.k8s.io/v1", "PriorityClass",
                            metadata(GATEWAY_PRIORITY_CLASS, None, _labels(site, GATEWAY_PRIORITY_CLASS, "priority")),
                            value=GATEWAY_PRIORITY, globalDefault=False,
                            description="llmkube routers: above every inference priority, so no model server "
                                        "preempts a gateway"))
    if site.deny_egress:
        out.append(default_deny_egress(site))
    if site.operators.gpu_operators:
        for v in sorted({p.vendor for p in site.accelerators}):
            chart = vendor(v).operator
            if chart:
                out.append(helm_release(chart.name, chart.chart, chart.version, chart.repository, chart.namespace,
                                        site, chart.values))
    if site.operators.keda:
        out.append(helm_release(*KEDA_CHART, site))
    return apply_site_images(out, site)


def default_deny_egress(site: SiteSpec) -> dict:
    """Deny all egress but DNS, the namespace itself and the declared internal CIDRs."""
    dns_ports = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
    egress = [
        {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": site.network.dns_namespace}},
                 "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}], "ports": dns_ports},
        {"to": [{"podSelector": {}}]},
    ]
    if site.network.egress_allow_cidrs:
        egress.append({"to": [{"ipBlock": {"cidr": c}} for c in site.network.egress_allow_cidrs]})
    return manifest("networking.k8s.io/v1", "NetworkPolicy",
                    metadata("default-deny-egress", site.namespace, _labels(site, "default-deny-egress", "network")),
                    spec={"podSelector": {}, "policyTypes": ["Egress"], "egress": egress})
