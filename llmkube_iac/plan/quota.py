"""Team quotas: a namespace with a ResourceQuota on the device keys, and Kueue queues.

Why both: the ResourceQuota is the hard stop the API server enforces in the team's namespace
(`requests.<device resource>`), Kueue's ClusterQueue is the fair share the team is admitted
against, borrowing unused quota from its cohort. One ResourceFlavor per accelerator pool (its node
labels) lets a team's quota name a pool; a quota that names only a vendor counts against every
pool of it. A team's priority is the site's PriorityClass `llmkube-<priority>` (plan/site.py
creates the ones teams use): Kueue orders a queue's workloads by their pods' priority class. The
`capacity` rule checks the quotas against the site's inventory at preview.

Serving pods of a service naming a team are admitted through Kueue's `pod` integration (each pod
one Workload, gated by `kueue.x-k8s.io/admission` until admitted): the pod template carries
`kueue.x-k8s.io/queue-name: <team>` (the team's LocalQueue in the site namespace), and the
namespaces holding a team's LocalQueue carry `llmkube.dev/kueue-managed: "true"`, the label the
site's Kueue selects (`managedJobsNamespaceSelector`, `kueue_values`). The label goes on the template
only, not on the Deployment: Kueue's Deployment webhook refuses a change of a running Deployment's
queue label, and a pod whose Deployment has none is queued by its own label.
"""

from __future__ import annotations

from collections import defaultdict

import yaml

from ..addons import providers_of, site_addons
from ..hardware import vendor
from ..spec import SiteSpec
from ..spec.fleet_ops import TeamQuota
from ..spec.service import InferenceServiceSpec
from .apis import SYSTEM_NAMESPACES
from .errors import PlanError
from .meta import KUEUE_MANAGED_LABEL, discovery_labels, manifest, metadata, standard_labels
from .scheduling import place

KUEUE_API = "kueue.x-k8s.io/v1beta1"
QUEUE_LABEL = "kueue.x-k8s.io/queue-name"  # Kueue's label naming a workload's LocalQueue

# kueue charts/kueue/values.yaml at v0.13.2: `managerConfig.controllerManagerConfigYaml` is the whole manager
# Configuration as one string (a values override replaces it), so this is the chart's default with three changes:
# - the `pod` integration (serving pods of a service naming a team are queued by their pod template's
#   kueue.x-k8s.io/queue-name label) and `deployment` (it needs `pod`; a team's own Deployment
#   labelled with its queue is admitted pod by pod);
# - managedJobsNamespaceSelector: only namespaces holding team LocalQueues (the chart turns it into every
#   Kueue webhook's namespaceSelector, so the pod webhook, failurePolicy Fail, sees no other namespace's pods);
# - resources.excludeResourcePrefixes: team quotas are device quotas, and a ClusterQueue admits nothing whose
#   requests name a resource it does not cover ("resource cpu unavailable in ClusterQueue").
_KUEUE_CONFIG = {
    "apiVersion": "config.kueue.x-k8s.io/v1beta1",
    "kind": "Configuration",
    "health": {"healthProbeBindAddress": ":8081"},
    "metrics": {"bindAddress": ":8443"},
    "webhook": {"port": 9443},
    "leaderElection": {"leaderElect": True, "resourceName": "c1f6bfd2.kueue.x-k8s.io"},
    "controller": {
        "groupKindConcurrency": {
            "Job.batch": 5,
            "Pod": 5,
            "Workload.kueue.x-k8s.io": 5,
            "LocalQueue.kueue.x-k8s.io": 1,
            "ClusterQueue.kueue.x-k8s.io": 1,
            "ResourceFlavor.kueue.x-k8s.io": 1,
        }
    },
    "clientConnection": {"qps": 50, "burst": 100},
    "managedJobsNamespaceSelector": {"matchLabels": {KUEUE_MANAGED_LABEL: "true"}},
    "integrations": {
        "frameworks": [
            "batch/job",
            "kubeflow.org/mpijob",
            "ray.io/rayjob",
            "ray.io/raycluster",
            "jobset.x-k8s.io/jobset",
            "kubeflow.org/paddlejob",
            "kubeflow.org/pytorchjob",
            "kubeflow.org/tfjob",
            "kubeflow.org/xgboostjob",
            "kubeflow.org/jaxjob",
            "workload.codeflare.dev/appwrapper",
            "pod",
            "deployment",
        ]
    },
    "resources": {"excludeResourcePrefixes": ["cpu", "memory", "ephemeral-storage", "hugepages-"]},
}


def kueue_values() -> dict:
    """The Kueue chart's values (a site that installs Kueue): its manager configuration as the one string."""
    return {"managerConfig": {"controllerManagerConfigYaml": yaml.safe_dump(_KUEUE_CONFIG, sort_keys=False)}}


def kueue_available(site: SiteSpec) -> bool:
    return bool(providers_of(site, "kueue.x-k8s.io")) or "kueue.x-k8s.io" in set(
        getattr(site, "cluster_provides", None) or ()
    )


def kueue_managed(site: SiteSpec, teams) -> dict[str, str]:
    """The label of a namespace holding team LocalQueues, where Kueue admits workloads: none without Kueue."""
    return {KUEUE_MANAGED_LABEL: "true"} if teams and kueue_available(site) else {}


def queue_labels(site: SiteSpec, svc: InferenceServiceSpec) -> dict[str, str]:
    """Pod template labels that queue a service's pods in its team's LocalQueue (site namespace)."""
    return {QUEUE_LABEL: svc.team} if svc.team and kueue_available(site) else {}


def flavor_labels(pool) -> dict[str, str]:
    """The node labels of a pool's ResourceFlavor: its vendor's device-plugin labels and its own."""
    return dict(sorted({**vendor(pool.vendor).node_selector, **pool.node_labels}.items()))


def admitting_pools(site: SiteSpec, team: TeamQuota, svc: InferenceServiceSpec) -> list[str]:
    """The team's quota pools whose flavor Kueue can assign to the service's pods (as its flavor assigner
    does: the pods' node selector on the flavors' label keys matches the flavor's labels, and the pods
    tolerate its taints). Empty: Kueue would keep the pods gated for ever."""
    profile = vendor(svc.accelerator.vendor)
    where = place(site, svc, profile)
    key = profile.resource_key or ""
    quota = team_devices(site, team)
    pools = [p for p in site.accelerators if key in quota.get(p.name, {})]
    keys = {k for p in pools for k in flavor_labels(p)}
    out = []
    for p in pools:
        labels = flavor_labels(p)
        if any(labels.get(k) != v for k, v in where.node_selector.items() if k in keys):
            continue
        if any(not _tolerated(t, where.tolerations) for t in p.taints if t.effect in ("NoSchedule", "NoExecute")):
            continue
        out.append(p.name)
    return out


def _tolerated(taint, tolerations: list[dict]) -> bool:
    """Kubernetes' toleration match: same effect (or none), same key (or none with Exists), Exists or equal value."""
    for tol in tolerations:
        if tol.get("effect") not in (None, "", taint.effect):
            continue
        if not tol.get("key"):
            if tol.get("operator") == "Exists":
                return True
            continue
        if tol["key"] != taint.key:
            continue
        if tol.get("operator") == "Exists" or tol.get("value", "") == (taint.value or ""):
            return True
    return False


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
    labels = flavor_labels(pool)
    spec: dict = {"nodeLabels": labels} if labels else {}
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
    managed = kueue_managed(site, teams)
    taken: dict[str, str] = {}
    for a in site_addons(site):
        taken.setdefault(a.namespace, a.name)  # the first add-on installed there
    for i, team in enumerate(teams):
        ns = team.team_namespace
        if ns in SYSTEM_NAMESPACES or ns in taken:
            whose = f"add-on {taken[ns]}'s namespace" if ns in taken else "a Kubernetes system namespace"
            raise PlanError(
                f"teams[{i}].{'namespace' if team.namespace else 'name'}",
                f"team namespace {ns} is {whose}: the team's namespace gets Pod Security restricted, a "
                "ResourceQuota and, with Kueue, Kueue's pod webhook; set teams[].namespace to a namespace of its own",
            )
        if ns not in seen:
            seen.add(ns)
            out.append(
                manifest(
                    "v1",
                    "Namespace",
                    metadata(
                        ns,
                        None,
                        {
                            **_labels(site, ns, team.name),
                            "pod-security.kubernetes.io/enforce": "restricted",
                            **managed,
                        },
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
