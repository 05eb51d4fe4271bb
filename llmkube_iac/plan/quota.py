"""Team quotas: a namespace with a ResourceQuota on the device keys, and Kueue queues.

Why both: the ResourceQuota is the hard stop the API server enforces in the team's namespace
(`requests.<device resource>`), Kueue's ClusterQueue is the fair share the team is admitted
against, borrowing unused quota from its cohort. One ResourceFlavor per accelerator pool (its node
labels) lets a team's quota name a pool; a quota that names only a vendor counts against every
pool of it. A team's priority is the site's PriorityClass `llmkube-<priority>` (plan/site.py
creates the ones teams use): Kueue orders a queue's workloads by their pods' priority class. The
`capacity` rule checks the quotas against the site's inventory at preview.
"""

from __future__ import annotations

from collections import defaultdict

from ..addons import providers_of
from ..hardware import vendor
from ..spec import SiteSpec
from ..spec.fleet_ops import TeamQuota
from .meta import discovery_labels, manifest, metadata, standard_labels

KUEUE_API = "kueue.x-k8s.io/v1beta1"


def kueue_available(site: SiteSpec) -> bool:
    return bool(providers_of(site, "kueue.x-k8s.io")) or "kueue.x-k8s.io" in set(
        getattr(site, "cluster_provides", None) or ()
    )


def _labels(site: SiteSpec, name: str, team: str | None = None) -> dict:
    extra = {"team": team} if team else {}
    return {**standard_labels(name, site.name, "quota"), **discovery_labels(site=site.name, **extra)}


def team_devices(site: SiteSpec, team: TeamQuota) -> dict[str, dict[str, int]]:
    """{pool: {resource key: devices}}; a vendor-wide quota is the nominal quota in each of its pools."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for d in team.devices:
        key = vendor(d.vendor).resource_key or ""  # the spec admits only vendors with a device resource
        pools: list[str] = [d.pool] if d.pool else [p.name for p in site.pools_for(d.vendor)]
        for pool in pools:
            out[pool][key] += d.count
    return out


def _resource_quota(site: SiteSpec, team: TeamQuota) -> dict:
    hard: dict[str, int] = defaultdict(int)
    for d in team.devices:
        hard[f"requests.{vendor(d.vendor).resource_key}"] += d.count
    return manifest(
        "v1",
        "ResourceQuota",
        metadata(f"{team.name}-devices", team.team_namespace, _labels(site, f"{team.name}-devices", team.name)),
        spec={"hard": {k: str(v) for k, v in sorted(hard.items())}},
    )


def _flavor(site: SiteSpec, pool) -> dict:
    labels = {**vendor(pool.vendor).node_selector, **pool.node_labels}
    spec: dict = {"nodeLabels": dict(sorted(labels.items()))} if labels else {}
    taints = [{"key": t.key, "effect": t.effect, **({"value": t.value} if t.value else {})} for t in pool.taints]
    if taints:
        spec["nodeTaints"] = taints
    return manifest(
        KUEUE_API,
        "ResourceFlavor",
        metadata(f"{site.name}-{pool.name}", None, _labels(site, f"{site.name}-{pool.name}")),
        spec=spec,
    )


def _cluster_queue(site: SiteSpec, team: TeamQuota) -> dict:
    by_pool = team_devices(site, team)
    keys = sorted({k for res in by_pool.values() for k in res})
    groups = []
    for key in keys:
        flavors = []
        for pool in sorted(p for p, res in by_pool.items() if key in res):
            quota: dict = {"name": key, "nominalQuota": by_pool[pool][key]}
            if not team.borrowing:
                quota["borrowingLimit"] = 0
            flavors.append({"name": f"{site.name}-{pool}", "resources": [quota]})
        groups.append({"coveredResources": [key], "flavors": flavors})
    spec = {
        "cohort": team.cohort,
        "namespaceSelector": {},
        "queueingStrategy": "BestEffortFIFO",
        "resourceGroups": groups,
        "preemption": {"reclaimWithinCohort": "Any", "withinClusterQueue": "LowerPriority"},
    }
    return manifest(
        KUEUE_API, "ClusterQueue", metadata(team.name, None, _labels(site, team.name, team.name)), spec=spec
    )


def plan_quotas(site: SiteSpec, teams: tuple[TeamQuota, ...]) -> list[dict]:
    """Team namespaces and ResourceQuotas always; Kueue objects where Kueue is installed or provided."""
    out: list[dict] = []
    seen = {site.namespace}
    for team in teams:
        ns = team.team_namespace
        if ns not in seen:
            seen.add(ns)
            out.append(
                manifest(
                    "v1",
                    "Namespace",
                    metadata(
                        ns, None, {**_labels(site, ns, team.name), "pod-security.kubernetes.io/enforce": "restricted"}
                    ),
                )
            )
        if team.devices:
            out.append(_resource_quota(site, team))
    if not teams or not kueue_available(site):
        return out
    used_pools = {p for t in teams for p in team_devices(site, t)}
    out += [_flavor(site, p) for p in site.accelerators if p.name in used_pools]
    for team in teams:
        if team.devices:
            out.append(_cluster_queue(site, team))
        for ns in dict.fromkeys((team.team_namespace, site.namespace)):
            out.append(
                manifest(
                    KUEUE_API,
                    "LocalQueue",
                    metadata(team.name, ns, _labels(site, team.name, team.name)),
                    spec={"clusterQueue": team.name},
                )
            )
    return out
