"""capacity: what a site's services may claim at max replicas fits what the site declares it has.

It reads the site's inventory (`accelerators` pools), the one thing an admission controller never
sees: per service against its matching pools, per shared pool set, and per vendor; and the stack's
team quotas: the quotas fit the inventory, and a team's services fit its quota (plus, when it may
borrow, its cohort's). Where Kueue runs, a team's serving pods are admitted by Kueue pod by pod against
the team's ClusterQueue (plan/quota.py), which counts what this rule counts (devices per pod x
replicas) per flavor: a service none of whose team's quota pools can hold its pods would wait
gated for ever, so that is refused here too."""

from __future__ import annotations

from collections import defaultdict

from ...hardware import vendor
from ...plan.errors import PlanError
from ...plan.quota import admitting_pools, kueue_available
from ...plan.scheduling import matching_pools, place
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
                    yield Violation(
                        f"service {spec.name} needs {need} {acc.vendor} device(s) at max replicas but site "
                        f"{site.spec.name} declares no {acc.vendor} accelerator pool",
                        svc.res.urn,
                    )
                continue
            pools = matching_pools(site.spec, spec)
            have = device_total(pools)
            if need > have:
                yield Violation(
                    f"service {spec.name} needs {spec.device_count} x {spec.max_replicas} = {need} {acc.vendor} "
                    f"device(s) at max replicas; its matching pools ({', '.join(p.name for p in pools) or 'none'}) "
                    f"have {have}",
                    svc.res.urn,
                )
            demand_by_vendor[acc.vendor].append((spec.name, need))
            if pools:
                by_pool_set[tuple(sorted(p.name for p in pools))].append((spec.name, need))
        for group, users in by_pool_set.items():
            total = sum(n for _, n in users)
            have = device_total([p for p in site.spec.accelerators if p.name in group])
            if len(users) > 1 and total > have:
                yield Violation(
                    f"site {site.spec.name}: pool(s) {', '.join(group)} have {have} device(s) but "
                    f"{', '.join(f'{s} ({n})' for s, n in users)} need {total} at max replicas",
                    site.res.urn,
                )
        for v, users in demand_by_vendor.items():
            total, have = sum(n for _, n in users), device_total(site.spec.pools_for(v))
            if len(users) > 1 and total > have:
                yield Violation(
                    f"site {site.spec.name}: {total} {v} device(s) requested at max replicas "
                    f"({', '.join(f'{s}: {n}' for s, n in users)}) but the site has {have}",
                    site.res.urn,
                )
        yield from check_team_quotas(site)


def check_team_quotas(site) -> list[Violation]:
    """Team quotas against the inventory, and each team's services against its quota."""
    out: list[Violation] = []
    teams = {t.name: t for t in site.teams}
    if not teams:
        return out

    def quota(team, v: str) -> int:
        return sum(d.count for d in team.devices if d.vendor == v)

    quota_by_vendor: dict[str, int] = defaultdict(int)
    quota_by_pool: dict[str, int] = defaultdict(int)
    for t in teams.values():
        for d in t.devices:
            quota_by_vendor[d.vendor] += d.count
            if d.pool:
                quota_by_pool[d.pool] += d.count
    for v, total in sorted(quota_by_vendor.items()):
        have = device_total(site.spec.pools_for(v))
        if total > have:
            parts = ", ".join(f"{t.name}: {quota(t, v)}" for t in teams.values() if quota(t, v))
            out.append(
                Violation(
                    f"site {site.spec.name}: team quotas promise {total} {v} device(s) ({parts}) but "
                    f"the site has {have}",
                    site.res.urn,
                )
            )
    for pool, total in sorted(quota_by_pool.items()):
        have = device_total([p for p in site.spec.accelerators if p.name == pool])
        if total > have:
            out.append(
                Violation(
                    f"site {site.spec.name}: team quotas on pool {pool} total {total} device(s) but "
                    f"the pool has {have}",
                    site.res.urn,
                )
            )

    demand: dict[tuple[str, str], list] = defaultdict(list)
    kueue = kueue_available(site.spec)
    for svc in accelerated_services(site):
        if svc.spec.team in teams:
            demand[(svc.spec.team, svc.spec.accelerator.vendor)].append(svc)
            if kueue:
                out += _unadmittable(site, teams[svc.spec.team], svc)
    for (name, v), svcs in sorted(demand.items()):
        team = teams[name]
        need = sum(s.spec.device_count * s.spec.max_replicas for s in svcs)
        limit = quota(team, v)
        if team.borrowing:
            limit = sum(quota(t, v) for t in teams.values() if t.cohort == team.cohort)
        if need > limit:
            how = f"its cohort {team.cohort}'s" if team.borrowing else "its"
            out.append(
                Violation(
                    f"team {name}'s services ({', '.join(s.spec.name for s in svcs)}) need {need} {v} "
                    f"device(s) at max replicas but {how} quota is {limit}",
                    svcs[0].res.urn,
                )
            )
    return out


def _unadmittable(site, team, svc) -> list[Violation]:
    """Kueue assigns a pod one of the team's flavors (pools) that its node selector and tolerations fit."""
    try:
        pools = admitting_pools(site.spec, team, svc.spec)
    except PlanError:  # the plan itself refuses such a service
        return []
    if pools:
        return []
    acc = svc.spec.accelerator
    where = place(site.spec, svc.spec, vendor(acc.vendor)).pool
    have = sorted({d.pool or f"any {d.vendor} pool" for d in team.devices if d.vendor == acc.vendor})
    return [
        Violation(
            f"service {svc.spec.name}'s pods would never be admitted by Kueue: they are placed on "
            f"{f'pool {where.name}' if where else f'{acc.vendor} nodes'} and team {team.name}'s {acc.vendor} "
            f"quota ({', '.join(have) or 'none'}) has no pool they fit",
            svc.res.urn,
        )
    ]


RULE = Rule(
    "capacity",
    "The accelerators a site's services request at max replicas fit the site's declared "
    "inventory (per service, per pool and per vendor); team quotas fit the inventory and each team's services "
    "fit its quota (or its cohort's, when it may borrow); where Kueue admits a team's services, one of the team's "
    "quota pools can hold the service's pods.",
    "mandatory",
    "Lower replicas/autoscaling.maxReplicas or accelerator.count, move a service to another site, or declare "
    "the nodes you really have in site.accelerators; lower teams[].devices[].count to what the site has, or "
    "raise the team's quota (on a pool the service runs on).",
    "stack",
    check_capacity,
    {
        "requireInventory": {
            "type": "boolean",
            "default": True,
            "description": "An accelerated service at a site without a pool of its vendor violates",
        }
    },
)
