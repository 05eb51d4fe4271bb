"""The cluster model: what the real engine would meet when it applies the recorded plan to a cluster.

The offline engine records registrations; a cluster refuses what a mock accepts. This model
groups the recorded objects by the cluster their provider reaches and applies them in the order
the registrations allow (dependencies and parents; waiting on a component waits on its
children). It refuses an object whose namespace nothing creates, a custom resource whose API
group no add-on of that cluster installs and `site.clusterProvides` does not declare, an object
that may be applied before its namespace or its add-on, two registrations of one object in one
cluster (one site's deletion would remove it for the other), and names the API server rejects.
Findings fail `llmkube-iac check` like mandatory policy violations and are listed in plan.json.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from ..plan.apis import SYSTEM_NAMESPACES, api_group, is_namespaced, provider_hint
from ..plan.objects import ADDON_TYPE, SITE_TYPE, is_builtin_api
from .resources import RenderedResource

ADDON, SITE = ADDON_TYPE, SITE_TYPE
PROVIDER = "pulumi:providers:kubernetes"
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\Z")
# kinds whose names the API server checks as DNS labels (a Job's name becomes its pods' job-name label)
_LABEL_NAMED = frozenset({"Namespace", "Service", "Job"})


@dataclass
class ClusterFinding:
    check: str  # namespace | api-group | order | duplicate | name
    message: str
    fix: str
    urn: str | None = None
    cluster: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Cluster:
    """One cluster's declared state: what exists before any object of the plan is applied."""

    name: str
    sites: list[str] = field(default_factory=list)
    namespaces: dict[str, str] = field(default_factory=dict)  # name -> URN of the Namespace object
    addons: list[RenderedResource] = field(default_factory=list)
    declared: set[str] = field(default_factory=set)  # API groups from site.clusterProvides
    default_namespace: str | None = None


@dataclass
class ClusterModel:
    clusters: dict[str, Cluster]
    apply_order: list[str]
    findings: list[ClusterFinding]

    def to_dict(self) -> dict:
        return {
            "clusters": {
                n: {
                    "sites": c.sites,
                    "namespaces": sorted(c.namespaces),
                    "addons": [a.props.get("release") for a in c.addons],
                    "clusterProvides": sorted(c.declared),
                }
                for n, c in self.clusters.items()
            },
            "applyOrder": self.apply_order,
            "findings": [f.to_dict() for f in self.findings],
        }


def _provider_urn(ref: str | None) -> str | None:
    return ref.rsplit("::", 1)[0] if ref else None


class _Graph:
    """`before(r)`: every resource the engine finishes before registering r."""

    def __init__(self, resources: list[RenderedResource]):
        self.by_urn = {r.urn: r for r in resources}
        self.children: dict[str, list[str]] = {}
        for r in resources:
            if r.parent:
                self.children.setdefault(r.parent, []).append(r.urn)
        self._memo: dict[str, frozenset[str]] = {}
        # many objects wait on the same components (a site's namespace and add-ons, a service's model):
        # each component's descendants and each resource's direct set are computed once per build
        self._descendants_memo: dict[str, frozenset[str]] = {}
        self._direct_memo: dict[str, frozenset[str]] = {}

    def _descendants(self, urn: str) -> frozenset[str]:
        hit = self._descendants_memo.get(urn)
        if hit is not None:
            return hit
        out: set[str] = set()
        stack = list(self.children.get(urn, ()))
        while stack:
            u = stack.pop()
            if u not in out:
                out.add(u)
                stack += self.children.get(u, ())
        self._descendants_memo[urn] = frozenset(out)
        return self._descendants_memo[urn]

    def direct(self, r: RenderedResource) -> frozenset[str]:
        hit = self._direct_memo.get(r.urn)
        if hit is not None and self.by_urn.get(r.urn) is r:
            return hit
        out = {d for d in r.dependencies if d in self.by_urn}
        if r.parent and r.parent in self.by_urn:
            out.add(r.parent)
        for d in r.dependencies:
            dep = self.by_urn.get(d)
            if dep is not None and not dep.custom and d != r.parent:
                out |= self._descendants(d)  # waiting on a component waits on all it contains (all recorded)
        self._direct_memo[r.urn] = frozenset(out)
        return self._direct_memo[r.urn]

    def before(self, urn: str) -> frozenset[str]:
        if urn in self._memo:
            return self._memo[urn]
        self._memo[urn] = frozenset()  # cycle guard
        out: set[str] = set()
        for d in self.direct(self.by_urn[urn]):
            out.add(d)
            out |= self.before(d)
        self._memo[urn] = frozenset(out)
        return self._memo[urn]

    def order(self) -> tuple[list[str], list[str]]:
        """(a topological order, URNs on a cycle)."""
        done: list[str] = []
        state: dict[str, int] = {}
        cyclic: list[str] = []

        def visit(u: str) -> None:
            if state.get(u) == 2:
                return
            if state.get(u) == 1:
                cyclic.append(u)
                return
            state[u] = 1
            for d in sorted(self.direct(self.by_urn[u])):
                visit(d)
            state[u] = 2
            done.append(u)

        for u in self.by_urn:
            visit(u)
        return done, cyclic


def _clusters(resources: list[RenderedResource], graph: _Graph) -> tuple[dict[str, Cluster], dict[str, str]]:
    """Each provider's cluster (clusterIdentifier, else context, else where it renders, else the ambient one)
    and the cluster of every resource (its provider's; a component's from what it contains)."""
    provider_cluster: dict[str, str] = {}
    clusters: dict[str, Cluster] = {}
    for r in resources:
        if r.type == PROVIDER:
            p = r.props
            name = (
                p.get("clusterIdentifier")
                or p.get("context")
                or (f"render:{p['renderYamlToDirectory']}" if p.get("renderYamlToDirectory") else "ambient")
            )
            provider_cluster[r.urn] = name
            clusters.setdefault(name, Cluster(name, default_namespace=p.get("namespace")))
    of: dict[str, str] = {}
    for r in resources:
        if r.type.startswith("kubernetes:"):
            of[r.urn] = provider_cluster.get(_provider_urn(r.provider), "ambient")
    for r in resources:  # components: the cluster of what they contain
        if r.urn not in of:
            found = {of[d] for d in graph._descendants(r.urn) if d in of}
            if len(found) == 1:
                of[r.urn] = found.pop()
    clusters.setdefault("ambient", Cluster("ambient"))
    return clusters, of


def build(resources: list[RenderedResource]) -> ClusterModel:
    graph = _Graph(resources)
    clusters, of = _clusters(resources, graph)
    findings: list[ClusterFinding] = []
    objects = [r for r in resources if r.manifest is not None]
    for r in resources:
        cluster = clusters.get(of.get(r.urn, ""))
        if cluster is None:
            continue
        if r.type == SITE and isinstance(r.props.get("spec"), dict):
            spec = r.props["spec"]
            cluster.sites.append(str(spec.get("name")))
            cluster.declared |= {str(g) for g in spec.get("clusterProvides") or ()}
        elif r.type == ADDON:
            cluster.addons.append(r)
    seen: dict[tuple[str, tuple], str] = {}
    for r in objects:
        m = r.manifest
        meta = m.get("metadata") or {}
        if m.get("kind") == "Namespace" and m.get("apiVersion") == "v1":
            cluster = clusters[of[r.urn]]
            if meta.get("name") in cluster.namespaces:
                findings.append(_duplicate(r, cluster, seen_urn=cluster.namespaces[meta["name"]]))
            cluster.namespaces.setdefault(meta.get("name"), r.urn)
    for r in objects:
        findings += _check_object(r, clusters[of[r.urn]], graph, seen)
    for cluster in clusters.values():
        releases: dict[tuple, str] = {}
        for a in cluster.addons:
            key = (a.props.get("namespace"), a.props.get("release"))
            if key in releases:
                findings.append(
                    ClusterFinding(
                        "duplicate",
                        f"Helm release {key[1]} in namespace {key[0]} is installed twice in cluster {cluster.name}",
                        "install each add-on once per cluster (sites sharing a cluster must not both enable it)",
                        a.urn,
                        cluster.name,
                    )
                )
            releases.setdefault(key, a.urn)
            findings += _check_addon(a, cluster, graph)
    order, cyclic = graph.order()
    for u in cyclic:
        findings.append(
            ClusterFinding(
                "order",
                f"{graph.by_urn[u].name} is on a dependency cycle",
                "remove the dependsOn that closes the cycle",
                u,
            )
        )
    wanted = {r.urn for r in objects} | {a.urn for c in clusters.values() for a in c.addons}
    return ClusterModel(
        {n: c for n, c in clusters.items() if c.sites or c.namespaces or c.addons},
        [u for u in order if u in wanted],
        findings,
    )


def _what(r: RenderedResource) -> str:
    m = r.manifest or {}
    meta = m.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{m.get('kind')} {ns + '/' if ns else ''}{meta.get('name')}"


def _duplicate(r: RenderedResource, cluster: Cluster, seen_urn: str) -> ClusterFinding:
    return ClusterFinding(
        "duplicate",
        f"{_what(r)} is registered twice in cluster {cluster.name} ({seen_urn} and {r.urn}): both "
        "would own it and deleting either removes it for the other",
        "give each site its own cluster (site.kubernetes.cluster), or a namespace of its own for namespaced objects",
        r.urn,
        cluster.name,
    )


def _provided(group: str, cluster: Cluster) -> list[RenderedResource]:
    return [a for a in cluster.addons if group in (a.props.get("provides") or ())]


def _check_group(r: RenderedResource, what: str, group: str, cluster: Cluster, graph: _Graph) -> list[ClusterFinding]:
    addons = _provided(group, cluster)
    if not addons:
        if group in cluster.declared:
            return []
        return [
            ClusterFinding(
                "api-group",
                f"{what} needs the {group} API, which no add-on in cluster {cluster.name} installs and "
                "site.clusterProvides does not declare",
                f"install {provider_hint(group)} and add {group} to "
                "site.clusterProvides, or enable the add-on that provides it",
                r.urn,
                cluster.name,
            )
        ]
    if group in cluster.declared or any(a.urn in graph.before(r.urn) for a in addons):
        return []
    return [
        ClusterFinding(
            "order",
            f"{what} may be applied before add-on {addons[0].props.get('release')}, which installs the {group} API",
            "make it depend on the add-on (components/register.py orders a component's own objects)",
            r.urn,
            cluster.name,
        )
    ]


def _check_namespace(
    r: RenderedResource, what: str, ns: str | None, cluster: Cluster, graph: _Graph
) -> list[ClusterFinding]:
    if not ns or ns in SYSTEM_NAMESPACES:
        return []
    ns_urn = cluster.namespaces.get(ns)
    if ns_urn is None:
        return [
            ClusterFinding(
                "namespace",
                f"{what} goes into namespace {ns}, which nothing in cluster {cluster.name} creates",
                f"create Namespace {ns} in the plan (a site creates its own and one per add-on chart)",
                r.urn,
                cluster.name,
            )
        ]
    if ns_urn != r.urn and ns_urn not in graph.before(r.urn):
        return [
            ClusterFinding(
                "order",
                f"{what} may be applied before Namespace {ns}",
                "make it depend on the Namespace",
                r.urn,
                cluster.name,
            )
        ]
    return []


def _check_object(r: RenderedResource, cluster: Cluster, graph: _Graph, seen: dict) -> list[ClusterFinding]:
    m = r.manifest
    meta = m.get("metadata") or {}
    what = _what(r)
    out: list[ClusterFinding] = []
    namespaced = is_namespaced(m)
    ns = (meta.get("namespace") or cluster.default_namespace) if namespaced else None
    key = (cluster.name, (api_group(m.get("apiVersion", "")), m.get("kind"), ns, meta.get("name")))
    if m.get("kind") != "Namespace":
        if key in seen:
            out.append(_duplicate(r, cluster, seen[key]))
        seen.setdefault(key, r.urn)
    out += _check_namespace(r, what, ns, cluster, graph)
    if not is_builtin_api(m.get("apiVersion", "")):
        out += _check_group(r, what, api_group(m["apiVersion"]), cluster, graph)
    name = str(meta.get("name") or "")
    if m.get("kind") in _LABEL_NAMED and not _DNS_LABEL.match(name):
        out.append(
            ClusterFinding(
                "name",
                f"{what}: the name must be a DNS label of at most 63 characters (it has {len(name)})",
                "shorten the name it is derived from",
                r.urn,
                cluster.name,
            )
        )
    return out


def _check_addon(a: RenderedResource, cluster: Cluster, graph: _Graph) -> list[ClusterFinding]:
    what = f"add-on {a.props.get('release')}"
    out = _check_namespace(a, what, a.props.get("namespace"), cluster, graph)
    for group in a.props.get("requires") or ():
        if group not in (a.props.get("provides") or ()):
            out += _check_group(a, what, group, cluster, graph)
    return out
