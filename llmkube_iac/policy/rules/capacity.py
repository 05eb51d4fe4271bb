"""capacity: what a site's services may claim at max replicas fits what the site declares it has.

It reads the site's inventory (`accelerators` pools), the one thing an admission controller never
sees: per service against its matching pools, per shared pool set, and per vendor."""
from __future__ import annotations

from collections import defaultdict

from ...plan.scheduling import matching_pools
from ..base import Rule, Violation
from ..inventory import accelerated_services, device_total
from ..view import StackView


def check_capacity(view: StackView, cfg: dict):
    for site in view.sites.values():
        demand_by_vendor: dict[str, list] = defaultdict(list)
        by_pool_set: dict[tuple, list] = defaultdict(list)
        for svc in accelerated_services(site):
            spec, acc = svc.spec, svc.spec.accelerator
            need = spec.device_count * spec.max_replicas
            declared = site.spec.pools_for(acc.vendor)
            if not declared:
                if cfg.get("requireInventory", True):
                    yield Violation(f"service {spec.name} needs {need} {acc.vendor} device(s) at max replicas but site "
                                    f"{site.spec.name} declares no {acc.vendor} accelerator pool", svc.res.urn)
                continue
            pools = matching_pools(site.spec, spec)
            have = device_total(pools)
            if need > have:
                yield Violation(
                    f"service {spec.name} needs {spec.device_count} x {spec.max_replicas} = {need} {acc.vendor} "
                    f"device(s) at max replicas; its matching pools ({', '.join(p.name for p in pools) or 'none'}) "
                    f"have {have}", svc.res.urn)
            demand_by_vendor[acc.vendor].append((spec.name, need))
            if pools:
                by_pool_set[tuple(sorted(p.name for p in pools))].append((spec.name, need))
        for group, users in by_pool_set.items():
            total = sum(n for _, n in users)
            have = device_total([p for p in site.spec.accelerators if p.name in group])
            if len(users) > 1 and total > have:
                yield Violation(f"site {site.spec.name}: pool(s) {', '.join(group)} have {have} device(s) but "
                                f"{', '.join(f'{s} ({n})' for s, n in users)} need {total} at max replicas",
                                site.res.urn)
        for v, users in demand_by_vendor.items():
            total, have = sum(n for _, n in users), device_total(site.spec.pools_for(v))
            if len(users) > 1 and total > have:
                yield Violation(f"site {site.spec.name}: {total} {v} device(s) requested at max replicas "
                                f"({', '.join(f'{s}: {n}' for s, n in users)}) but the site has {have}", site.res.urn)


RULE = (
    Rule("capacity", "The accelerators a site's services request at max replicas fit the site's declared "
         "inventory (per service, per pool and per vendor).", "mandatory",
         "Lower replicas/autoscaling.maxReplicas or accelerator.count, move a service to another site, or declare "
         "the nodes you really have in site.accelerators.",
         "stack", check_capacity,
         {"requireInventory": {"type": "boolean", "default": True,
                               "description": "An accelerated service at a site without a pool of its vendor "
                                              "violates"}})
)
