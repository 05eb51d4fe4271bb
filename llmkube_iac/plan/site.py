"""Site-wide objects: the namespace, priority classes, egress default-deny and operator charts.

Everything here belongs to the cluster rather than to one service; `plan/stack.py` combines it
with the models, services, routers and metal hosts into the whole-stack plan.
"""
from __future__ import annotations

from ..hardware import ChartImage, OperatorChart, vendor
from ..spec import InferenceServiceSpec, SiteSpec
from .charts import HELM_API, chart_namespaces, helm_release, site_charts
from .images import apply_mirrors
from .meta import discovery_labels, manifest, metadata, standard_labels

__all__ = ["HELM_API", "KEDA_CHART", "PRIORITIES", "default_deny_egress", "helm_release", "plan_site_base"]

PRIORITIES = {"critical": 1_000_000, "high": 100_000, "normal": 10_000, "low": 1_000, "batch": 100}
# kedacore/charts keda/values.yaml at 2.17.2: image "<image.X.registry>/<image.X.repository>:<tag>"
KEDA_CHART = OperatorChart(
    "keda", "keda", "2.17.2", "https://kedacore.github.io/charts", "keda",
    images=tuple(ChartImage(f"image.{c}.registry", "ghcr.io") for c in ("keda", "metricsApiServer", "webhooks")),
    provides=("keda.sh", "eventing.keda.sh"),
)


def _labels(site: SiteSpec, name: str, component: str) -> dict:
    return {**standard_labels(name, site.name, component), **discovery_labels(site=site.name)}


def plan_site_base(site: SiteSpec, services: tuple[InferenceServiceSpec, ...] = ()) -> list[dict]:
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
    if site.deny_egress:
        out.append(default_deny_egress(site))
    charts = []
    if site.operators.gpu_operators:
        charts += [vendor(v).operator for v in sorted({p.vendor for p in site.accelerators}) if vendor(v).operator]
    if site.operators.keda:
        charts.append(KEDA_CHART)
    out += site_charts(charts, site)
    out[1:1] = chart_namespaces(out, site)  # Helm v4 charts create no namespace: the plan does
    return apply_mirrors(out, site.registry_mirrors)


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
