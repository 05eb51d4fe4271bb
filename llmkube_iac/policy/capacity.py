"""capacity (stack): what a site's services may claim at max replicas fits what the site declares
it has. gpu-fit: each accelerated service's model fits its device per the fit estimator.

Both read the site's inventory (`accelerators` pools), the one thing an admission controller
never sees."""
from __future__ import annotations

from collections import defaultdict

from ..hardware import vendor
from ..modelinfo.fit import fit_service
from ..plan.scheduling import matching_pools
from ..units import GIB
from .base import Rule, Violation
from .view import SiteView, StackView


def _devices(pools) -> int:
    return sum(p.devices_per_node * p.node_count for p in pools)


def _accelerated(site: SiteView):
    for svc in site.services:
        profile = vendor(svc.spec.accelerator.vendor)
        if profile.schedulable and profile.resource_key and svc.spec.device_count > 0:
            yield svc


def check_capacity(view: StackView, cfg: dict):
    for site in view.sites.values():
        demand_by_vendor: dict[str, list] = defaultdict(list)
        by_pool_set: dict[tuple, list] = defaultdict(list)
        for svc in _accelerated(site):
            spec, acc = svc.spec, svc.spec.accelerator
            need = spec.device_count * spec.max_replicas
            declared = site.spec.pools_for(acc.vendor)
            if not declared:
                if cfg.get("requireInventory", True):
                    yield Violation(f"service {spec.name} needs {need} {acc.vendor} device(s) at max replicas but site "
                                    f"{site.spec.name} declares no {acc.vendor} accelerator pool", svc.res.urn)
                continue
            pools = matching_pools(site.spec, spec)
            have = _devices(pools)
            if need > have:
                yield Violation(
                    f"service {spec.name} needs {spec.device_count} x {spec.max_replicas} = {need} {acc.vendor} "
                    f"device(s) at max replicas; its matching pools ({', '.join(p.name for p in pools) or 'none'}) "
                    f"have {have}", svc.res.urn)
            demand_by_vendor[acc.vendor].append((spec.name, need))
            if pools:
                by_pool_set[tuple(sorted(p.name for p in pools))].append((spec.name, need))
        for group, users in by_pool_set.items():
            total, have = sum(n for _, n in users), _devices([p for p in site.spec.accelerators if p.name in group])
            if len(users) > 1 and total > have:
                yield Violation(f"site {site.spec.name}: pool(s) {', '.join(group)} have {have} device(s) but "
                                f"{', '.join(f'{s} ({n})' for s, n in users)} need {total} at max replicas",
                                site.res.urn)
        for v, users in demand_by_vendor.items():
            total, have = sum(n for _, n in users), _devices(site.spec.pools_for(v))
            if len(users) > 1 and total > have:
                yield Violation(f"site {site.spec.name}: {total} {v} device(s) requested at max replicas "
                                f"({', '.join(f'{s}: {n}' for s, n in users)}) but the site has {have}", site.res.urn)


def _model_info(facts: dict | None):
    """Header facts recorded on the Model component, as the estimator's ModelInfo (None if unusable)."""
    if not facts:
        return None
    from dataclasses import fields

    from ..modelinfo.info import ModelInfo

    try:
        return ModelInfo(**{f.name: facts[f.name] for f in fields(ModelInfo) if f.name in facts})
    except TypeError:
        return None


def _device_memory(site: SiteView, svc) -> tuple[str | None, float | None]:
    """(product, GiB per device) the service runs on: its pool, or for metal the smallest usable
    unified memory among the Apple Silicon hosts serving it."""
    if not vendor(svc.spec.accelerator.vendor).schedulable:
        hosts = [h for h in site.spec.metal_hosts if not svc.spec.hosts or h.name in svc.spec.hosts]
        if not hosts:
            return None, None
        host = min(hosts, key=lambda h: h.unified_memory_gi_b * h.usable_fraction)
        return f"Apple {host.chip}", host.unified_memory_gi_b * host.usable_fraction
    pools = matching_pools(site.spec, svc.spec) or site.spec.pools_for(svc.spec.accelerator.vendor)
    pool = pools[0] if pools else None
    product = (pool.product if pool else None) or svc.spec.accelerator.product
    return product, (pool.memory_gi_b if pool else None) or svc.spec.accelerator.min_memory_gi_b


def _fit_candidates(site: SiteView):
    """GPU services, and Apple Silicon services (served by metal hosts' unified memory)."""
    yield from _accelerated(site)
    yield from (svc for svc in site.services if not vendor(svc.spec.accelerator.vendor).schedulable)


def check_fit(view: StackView, cfg: dict):
    refuse = set(cfg.get("refuse", ["does-not-fit"]))
    for site in view.sites.values():
        for svc in _fit_candidates(site):
            model, facts = site.model_for(svc)
            if model is None:
                continue
            product, memory = _device_memory(site, svc)
            if not vendor(svc.spec.accelerator.vendor).schedulable:
                product = None  # memory_gib is the usable unified memory itself
            where = f"service {svc.spec.name} at site {site.spec.name}"
            try:
                report = fit_service(model, svc.spec, product=product, memory_gib=memory, info=_model_info(facts))
            except ValueError as exc:
                yield Violation(f"{where}: cannot estimate the fit: {exc}", svc.res.urn)
                continue
            verdict, summary = report.verdict, report.summary()
            weights = report.breakdown.get("weights", 0)
            if verdict == "unknown" and memory and weights > memory * GIB * report.devices:
                verdict = "does-not-fit"  # the weights alone exceed every device together: no KV facts needed
                summary = (f"does-not-fit: the weights alone ({weights / GIB:.2f} GiB) exceed {report.devices} x "
                           f"{memory:g} GiB; use a smaller model or quantization, or more/larger devices "
                           f"({summary})")
            if verdict in refuse:
                yield Violation(f"{where}: {verdict} on {report.devices} x {product or svc.spec.accelerator.vendor}: "
                                f"{summary}", svc.res.urn)


RULES = [
    Rule("capacity", "The accelerators a site's services request at max replicas fit the site's declared "
         "inventory (per service, per pool and per vendor).", "mandatory",
         "Lower replicas/autoscaling.maxReplicas or accelerator.count, move a service to another site, or declare "
         "the nodes you really have in site.accelerators.",
         "stack", check_capacity,
         {"requireInventory": {"type": "boolean", "default": True,
                               "description": "An accelerated service at a site without a pool of its vendor violates"}}),
    Rule("gpu-fit", "Every accelerated service's model (weights + KV cache at its context and slots + runtime "
         "overhead) fits its device per the fit estimator.", "mandatory",
         "Pick a smaller quantization, a shorter contextSize or fewer parallelSlots, quantize the KV cache, add "
         "devices (accelerator.count with sharding) or choose a pool with more memory; the message has the breakdown.",
         "stack", check_fit,
         {"refuse": {"type": "array", "items": {"type": "string", "enum": ["does-not-fit", "marginal", "unknown"]},
                     "default": ["does-not-fit"], "description": "Fit verdicts that count as violations"}}),
]
