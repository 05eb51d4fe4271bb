"""The whole-stack plan: every manifest of one site, grouped by the component that registers it.

The Site component plans everything here before it registers anything, so invalid input fails
the preview with a field path and nothing is half-applied; benchmarks and policy tests call it
directly (it is pure). A Model, InferenceService or Router used without a Site is planned by
`plan_alone`. Both end in `_on_site`, the one place images are rewritten to the site's registry
mirrors and pinned to its recorded digests (plan/images.py), so nothing that reaches a cluster can
skip it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from ..addons import ADDONS, unmet_needs
from ..hardware import vendor
from ..spec import InferenceServiceSpec, ModelSpec, SiteSpec, StackConfig
from ..spec.router import RouterSpec
from .cost import CostEstimate, estimate_cost
from .endpoints import openai_base_url
from .errors import PlanError
from .images import apply_site_images
from .metal import plan_metal
from .metal_keys import check_metal_keys
from .model import plan_model
from .observability import plan_observability
from .quota import plan_quotas
from .router import plan_router
from .service import ServicePlan, plan_service
from .site import plan_site_base
from .slo import router_slos, service_slos
from .validate import check_objects


@dataclass
class StackPlan:
    """Every manifest of a stack, grouped by the component that registers it."""

    site: list[dict]
    models: dict[str, tuple[ModelSpec, list[dict]]] = field(default_factory=dict)
    services: dict[str, ServicePlan] = field(default_factory=dict)
    metal: list[dict] = field(default_factory=list)
    routers: dict[str, list[dict]] = field(default_factory=dict)
    costs: dict[str, CostEstimate] = field(default_factory=dict)  # by service: $/1M tokens (plan/cost.py)

    # site-wide operations objects with stable names: add-on and team namespaces, quotas and queues,
    # SLOs, alert rules, dashboards (registered after the add-ons whose CRDs they use)
    fleet: list[dict] = field(default_factory=list)  # also in `site`: kept apart for tests and reports

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
    """Stack-level models plus inline ones (InferenceServiceSpec.model_name), keyed by object name."""
    models = {m.name: m for m in config.models if m.name}  # stack-level names are required (validated)
    for svc in config.services:
        if isinstance(svc.model, ModelSpec):
            models[svc.model_name] = svc.model
    return models


def _on_site(plan: StackPlan, site: SiteSpec) -> StackPlan:
    """The plan as the site registers it: every image mirrored and pinned (apply_site_images)."""
    plan.site = apply_site_images(plan.site, site)
    plan.models = {n: (spec, apply_site_images(ms, site)) for n, (spec, ms) in plan.models.items()}
    plan.services = {n: replace(sp, manifests=apply_site_images(sp.manifests, site)) for n, sp in plan.services.items()}
    plan.routers = {n: apply_site_images(ms, site) for n, ms in plan.routers.items()}
    plan.metal = apply_site_images(plan.metal, site)
    return plan


def plan_alone(
    site: SiteSpec,
    *,
    model: tuple[ModelSpec, str, int | None] | None = None,
    service: tuple[InferenceServiceSpec, ModelSpec, str, int | None] | None = None,
    router: tuple[RouterSpec, Sequence[InferenceServiceSpec]] | None = None,
    routers: Sequence[RouterSpec] = (),
) -> StackPlan:
    """One component planned without a Site: model = (spec, object name, size), service = (spec, model,
    model object name, size), router = (spec, the services it may route to); `routers` are those that
    route to the service (its NetworkPolicy admits exactly their zones). Same planners as plan_stack."""
    plan = StackPlan(site=[])
    if model is not None:
        spec, name, size = model
        plan.models[name] = (spec, plan_model(site, spec, name, size))
    if service is not None:
        svc, svc_model, name, size = service
        plan.services[svc.name] = plan_service(site, svc, svc_model, name, size, routers)
    if router is not None:
        router_spec, services = router
        plan.routers[router_spec.name] = plan_router(site, router_spec, services)
    plan = _on_site(plan, site)
    check_objects(
        [("model", m) for _, ms in plan.models.values() for m in ms]
        + [("service", m) for sp in plan.services.values() for m in sp.manifests]
        + [("router", m) for ms in plan.routers.values() for m in ms]
    )
    return plan


def pin_sources(config: StackConfig, sources: dict[str, str]) -> StackConfig:
    """The stack with the named models' sources replaced (stack models and inline service models): how
    plan-time revision pins (modelinfo.revisions) reach the download Job, the cache key and the policy."""

    def pinned(name: str, model: ModelSpec) -> ModelSpec:
        new = sources.get(name)
        return model if new is None or new == model.source else model.model_copy(update={"source": new})

    models = tuple(pinned(m.name or "", m) for m in config.models)
    services = tuple(
        svc if isinstance(svc.model, str) else svc.model_copy(update={"model": pinned(svc.model_name, svc.model)})
        for svc in config.services
    )
    return config.model_copy(update={"models": models, "services": services})


def plan_stack(config: StackConfig, sizes: dict[str, int] | None = None) -> StackPlan:
    """Plan a whole site; PlanError paths point into the stack config (services[i]...)."""
    site, sizes = config.site, sizes or {}
    plan = StackPlan(site=plan_site_base(site, config.services, config.teams, config.routers))
    models = stack_models(config)
    metal_services = []
    for i, svc in enumerate(config.services):
        name = svc.model_name
        model = models[name]
        if not vendor(svc.accelerator.vendor).schedulable:
            metal_services.append((svc, model))
            continue
        try:
            plan.services[svc.name] = plan_service(site, svc, model, name, sizes.get(name), config.routers)
        except PlanError as err:
            raise err.under(f"services[{i}]") from None
    on_kubernetes = {s.model_name for s in config.services if vendor(s.accelerator.vendor).schedulable}
    metal_only = {s.model_name for s, _ in metal_services} - on_kubernetes
    for name, model in models.items():
        if name in metal_only:
            continue  # only metal hosts use it: their agents fetch it themselves
        try:
            manifests = plan_model(site, model, name, sizes.get(name))
        except PlanError as err:
            raise err.under(_model_paths(config).get(name, "models")) from None
        plan.models[name] = (model, manifests)
    if metal_services:
        check_metal_keys(config.services, config.routers)  # a Mac may read its key's Secret: nothing else in it
        try:
            plan.metal = plan_metal(site, metal_services)  # Apple Silicon hosts, run by the metal-agent
        except PlanError as err:
            raise _by_position(err, config) from None
        for svc, _ in metal_services:  # each service's own selector-less Service goes with its component
            own = [m for m in plan.metal if m["kind"] == "Service" and m["metadata"]["name"] == svc.name]
            plan.metal = [m for m in plan.metal if not any(m is o for o in own)]
            plan.services[svc.name] = ServicePlan(
                own, openai_base_url(svc.name, site.namespace, svc.endpoint.port), svc.name, site.namespace
            )
    plan.costs = stack_costs(config, models, sizes)
    per_token = {n: c.dollars_per_token for n, c in plan.costs.items() if c.dollars_per_token is not None}
    for i, router in enumerate(config.routers):
        try:
            plan.routers[router.name] = plan_router(site, router, config.services, per_token)
        except PlanError as err:
            raise err.under(f"routers[{i}]") from None
    plan.fleet = plan_fleet_ops(config)
    plan.site += plan.fleet  # the Site registers them with its own objects, each after what it needs
    plan = _on_site(plan, site)
    check_objects(_owned(plan, config))
    return plan


def stack_costs(config: StackConfig, models: dict[str, ModelSpec], sizes: dict[str, int]) -> dict[str, CostEstimate]:
    """Each service's cost per token at its site (the weights size read from a header wins)."""
    from ..modelinfo.fit import _spec_info

    out = {}
    for svc in config.services:
        name = svc.model_name
        info = _spec_info(models[name])
        if sizes.get(name):
            info.total_bytes = sizes[name]
        out[svc.name] = estimate_cost(config.site, svc, models[name], info)
    return out


def plan_fleet_ops(config: StackConfig) -> list[dict]:
    """Add-on namespaces, team quotas, SLOs, alerts and dashboards of one site (pure)."""
    site = config.site
    for addon, group in unmet_needs(site):
        providers = [a.name for a in ADDONS.values() if group in a.provides]
        raise PlanError(
            f"site.addons.{addon.enabled.addons_flag}",  # type: ignore[attr-defined]
            f"add-on {addon.name} needs API group {group}, which nothing at the site "
            f"provides: install {' or '.join(providers) or 'its provider'} (site.addons) "
            f"or list {group} in site.clusterProvides if the cluster has it",
        )
    out = plan_quotas(site, config.teams)
    for i, svc in enumerate(config.services):
        out += service_slos(site, svc, f"services[{i}]")
    for i, router in enumerate(config.routers):
        out += router_slos(site, router, f"routers[{i}]")
    out += plan_observability(site, config.services, config.routers)
    return out


def _model_paths(config: StackConfig) -> dict[str, str]:
    """Where each planned model is declared: models[i], or the first service that declares it inline."""
    paths: dict[str, str] = {}
    for j, s in reversed(list(enumerate(config.services))):
        paths[s.model_name] = f"services[{j}].model"
    for i, m in reversed(list(enumerate(config.models))):
        if m.name:
            paths[m.name] = f"models[{i}]"
    return paths


def _by_position(err: PlanError, config: StackConfig) -> PlanError:
    """The metal planner names services (`services[chat]`); users index them by position."""
    index = {s.name: i for i, s in enumerate(config.services)}
    path, msg = err.problems[0]
    path = re.sub(r"^services\[([^\]]+)\]", lambda m: f"services[{index.get(m[1], m[1])}]", path)
    return PlanError(path, msg)


def _owned(plan: StackPlan, config: StackConfig):
    """Every manifest with the config path of the component that creates it (for the final gate)."""
    hosts = {h.name: i for i, h in enumerate(config.site.metal_hosts)}
    services = {s.name: i for i, s in enumerate(config.services)}
    routers = {r.name: i for i, r in enumerate(config.routers)}
    for m in plan.site:
        yield "site", m
    model_paths = _model_paths(config)
    for name, (_, manifests) in plan.models.items():
        for m in manifests:
            yield model_paths.get(name, "models"), m
    for name, sp in plan.services.items():
        for m in sp.manifests:
            yield f"services[{services[name]}]", m
    for name, manifests in plan.routers.items():
        for m in manifests:
            yield f"routers[{routers[name]}]", m
    for m in plan.metal:
        host = (m.get("metadata", {}).get("labels") or {}).get("llmkube.dev/metal-host")
        yield (f"site.metalHosts[{hosts[host]}]" if host in hosts else "site.metalHosts"), m
