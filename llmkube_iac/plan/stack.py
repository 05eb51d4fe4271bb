"""The whole-stack plan: every manifest of one site, grouped by the component that registers it.

The Site component plans everything here before it registers anything, so invalid input fails
the preview with a field path and nothing is half-applied; benchmarks and policy tests call it
directly (it is pure).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..hardware import vendor
from ..spec import InferenceServiceSpec, ModelSpec, StackConfig
from .endpoints import openai_base_url
from .errors import PlanError
from .images import apply_site_images
from .metal import plan_metal
from .metal_keys import check_metal_keys
from .model import plan_model
from .router import plan_router
from .service import ServicePlan, plan_service
from .site import plan_site_base


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
    plan = StackPlan(site=plan_site_base(site, config.services, config.routers))
    models = stack_models(config)
    metal_services = []
    for i, svc in enumerate(config.services):
        name = service_model_name(svc)
        model = models[name]
        if not vendor(svc.accelerator.vendor).schedulable:
            metal_services.append((svc, model))
            continue
        try:
            sp = plan_service(site, svc, model, name, sizes.get(name), config.routers)
        except PlanError as err:
            raise err.under(f"services[{i}]") from None
        plan.services[svc.name] = ServicePlan(apply_site_images(sp.manifests, site), sp.base_url,
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
        plan.models[name] = (model, apply_site_images(manifests, site))
    if metal_services:
        check_metal_keys(config.services, config.routers)  # a Mac may read its key's Secret: nothing else in it
        plan.metal = plan_metal(site, metal_services)  # Apple Silicon hosts, run by the metal-agent
        for svc, _ in metal_services:  # each service's own selector-less Service goes with its component
            own = [m for m in plan.metal if m["kind"] == "Service" and m["metadata"]["name"] == svc.name]
            plan.metal = [m for m in plan.metal if not any(m is o for o in own)]
            plan.services[svc.name] = ServicePlan(own, openai_base_url(svc.name, site.namespace, svc.endpoint.port),
                                                  svc.name, site.namespace)
    for i, router in enumerate(config.routers):
        try:
            plan.routers[router.name] = apply_site_images(plan_router(site, router, config.services), site)
        except PlanError as err:
            raise err.under(f"routers[{i}]") from None
    return plan

