"""Site-wide objects: the namespace, priority classes, egress default-deny and the add-on charts.

Everything here belongs to the cluster rather than to one service; `plan/stack.py` combines it
with the models, services, routers and metal hosts into the whole-stack plan. The add-on table
(addons.py) decides which charts a site installs; plan/charts.py turns them into pseudo-manifests
and adds the namespaces they install into.
"""

from __future__ import annotations

from ..addons import site_addons
from ..spec import InferenceServiceSpec, SiteSpec
from ..spec.priority import GATEWAY_CLASS_VALUE, GATEWAY_PRIORITY_CLASS, PRIORITIES, priority_class_name
from ..spec.router import RouterSpec
from .charts import HELM_API, chart_namespaces, helm_release, site_charts
from .meta import manifest, metadata, object_labels
from .network import dns_egress
from .quota import kueue_managed

__all__ = ["HELM_API", "default_deny_egress", "helm_release", "plan_site_base"]


def _labels(site: SiteSpec, name: str, component: str) -> dict:
    return object_labels(name, site.name, component, site=site.name)


def plan_site_base(
    site: SiteSpec,
    services: tuple[InferenceServiceSpec, ...] = (),
    teams: tuple = (),
    routers: tuple[RouterSpec, ...] = (),
) -> list[dict]:
    ns = site.namespace
    out = [
        manifest(
            "v1",
            "Namespace",
            metadata(
                ns,
                None,
                {
                    **_labels(site, ns, "namespace"),
                    "pod-security.kubernetes.io/enforce": "restricted",
                    "pod-security.kubernetes.io/enforce-version": "latest",
                    **kueue_managed(site, teams),  # it holds the teams' LocalQueues (plan/quota.py)
                },
            ),
        )
    ]
    used = ({s.priority for s in services} | {t.priority for t in teams}) or {"normal"}
    for prio, level in PRIORITIES.items():
        if prio in used:
            body = {
                "value": level.class_value,
                "globalDefault": False,
                "description": f"llmkube {prio} inference workloads",
            }
            if not level.preempts:
                body["preemptionPolicy"] = "Never"
            name = priority_class_name(prio)
            out.append(
                manifest(
                    "scheduling.k8s.io/v1",
                    "PriorityClass",
                    metadata(name, None, _labels(site, name, "priority")),
                    **body,
                )
            )
    if routers:
        out.append(
            manifest(
                "scheduling.k8s.io/v1",
                "PriorityClass",
                metadata(GATEWAY_PRIORITY_CLASS, None, _labels(site, GATEWAY_PRIORITY_CLASS, "priority")),
                value=GATEWAY_CLASS_VALUE,
                globalDefault=False,
                description="llmkube routers: above every inference priority, so no model server preempts a gateway",
            )
        )
    if site.deny_egress:
        out.append(default_deny_egress(site))
    out += site_charts(site_addons(site), site)  # the add-on table decides which (addons.py)
    out[1:1] = chart_namespaces(out, site)  # Helm v4 charts create no namespace: the plan does
    return out


def default_deny_egress(site: SiteSpec) -> dict:
    """Deny all egress but DNS, the namespace itself and the declared internal CIDRs."""
    egress = [dns_egress(site), {"to": [{"podSelector": {}}]}]
    if site.network.egress_allow_cidrs:
        egress.append({"to": [{"ipBlock": {"cidr": c}} for c in site.network.egress_allow_cidrs]})
    return manifest(
        "networking.k8s.io/v1",
        "NetworkPolicy",
        metadata("default-deny-egress", site.namespace, _labels(site, "default-deny-egress", "network")),
        spec={"podSelector": {}, "policyTypes": ["Egress"], "egress": egress},
    )
