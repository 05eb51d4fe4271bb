"""Site-wide objects (namespace, priority classes, egress default-deny, operator charts) and the
whole-stack plan that the Site component and the benchmarks share.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..hardware import vendor
from ..spec import InferenceServiceSpec, ModelSpec, SiteSpec, StackConfig
from .errors import PlanError
from .images import apply_mirrors
from .meta import discovery_labels, manifest, metadata, standard_labels
from .endpoints import openai_base_url
from .metal import plan_metal
from .model import plan_model
from .router import plan_router
from .service import ServicePlan, plan_service

PRIORITIES = {"critical": 1_000_000, "high": 100_000, "normal": 10_000, "low": 1_000, "batch": 100}
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
    if site.operators.gpu_operators:
        for v in sorted({p.vendor for p in site.accelerators}):
            chart = vendor(v).operator
            if chart:
                out.append(helm_release(chart.name, chart.chart, chart.version, chart.repository, chart.namespace,
                                        site, chart.values))
    if site.operators.keda:
        out.append(helm_release(*KEDA_CHART, site))
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


@dataclass
class StackPlan:
    """Every manifest of a stack, grouped by the component that registers it."""

    site: list[dict]
    models: dict[str, tuple[ModelSpec, list[dict]]] = field(default_factory=dict)
    services: dict[str, ServicePlan] = field(default_factory=dict)
    metal: list[dict] = field(default_factory=list)
    routers: dict[str, list[dict]] = field(default_factory=dict)

    def all_manifests(self) -> list[dict]:
        out = list(self.site)
        for _, manifests in self.models.values():
            out += manifests
        for plan in self.services.values():
            out += plan.manifests
        for manifests in self.routers.values():
            out += manifests
        return out + self.metal


def stack_models(config: StackConfig) -> dict[str, ModelSpec]:
    """Stack-level models plus inline ones (named `<service>-model`), keyed by object name."""
    models = {m.name: m for m in config.models}
    for svc in config.services:
        if isinstance(svc.model, ModelSpec):
            models[svc.model.name or f"{svc.name}-model"] = svc.model
    return models


def service_model_name(svc: InferenceServiceSpec) -> str:
    if isinstance(svc.model, str):
        return svc.model
    return svc.model.name or f"{svc.name}-model"


def plan_stack(config: StackConfig, sizes: dict[str, int] | None = None) -> StackPlan:
    """Plan a whole site; PlanError paths point into the stack config (services[i]...)."""
    site, sizes = config.site, sizes or {}
    plan = StackPlan(site=plan_site_base(site, config.services))
    models = stack_models(config)
    metal_services = []
    for i, svc in enumerate(config.services):
        name = service_model_name(svc)
        model = models[name]
        if not vendor(svc.accelerator.vendor).schedulable:
            metal_services.append((svc, model))
            continue
        try:
            sp = plan_service(site, svc, model, name, sizes.get(name))
        except PlanError as err:
            raise err.under(f"services[{i}]") from None
        plan.services[svc.name] = ServicePlan(apply_mirrors(sp.manifests, site.registry_mirrors), sp.base_url,
                                              sp.service_name, sp.namespace)
    on_kubernetes = {service_model_name(s) for s in config.services if vendor(s.accelerator.vendor).schedulable}
    metal_only = {service_model_name(s) for s, _ in metal_services} - on_kubernetes
    stack_index = {m.name: i for i, m in enumerate(config.models)}
    for name, model in models.items():
        if name in metal_only:
            continue  # only metal hosts use it: their agents fetch it themselves
        try:
            manifests = plan_model(site, model, name, sizes.get(name))
        except PlanError as err:
            where = f"models[{stack_index[name]}]" if name in stack_index else f"services[{name}].model"
            raise err.under(where) from None
        plan.models[name] = (model, apply_mirrors(manifests, site.registry_mirrors))
    if metal_services:
        plan.metal = plan_metal(site, metal_services)  # Apple Silicon hosts, run by the metal-agent
        for svc, _ in metal_services:  # each service's own selector-less Service goes with its component
            own = [m for m in plan.metal if m["kind"] == "Service" and m["metadata"]["name"] == svc.name]
            plan.metal = [m for m in plan.metal if not any(m is o for o in own)]
            plan.services[svc.name] = ServicePlan(own, openai_base_url(svc.name, site.namespace, svc.endpoint.port),
                                                  svc.name, site.namespace)
    for i, router in enumerate(config.routers):
        try:
            plan.routers[router.name] = apply_mirrors(plan_router(site, router, config.services), site.registry_mirrors)
        except PlanError as err:
            raise err.under(f"routers[{i}]") from None
    return plan

