"""What waits for what among one component's objects, so `pulumi up` applies them in an order that works.

The engine runs independent registrations in parallel: a NetworkPolicy can reach the API server
before its Namespace, a custom resource before the chart that installs its CRD, a router pod
before its certificate's Secret exists. These edges make the dependencies explicit; the offline
cluster model checks the recorded registrations against the same facts. Pure: no pulumi.
"""

from __future__ import annotations

from .apis import api_group
from .charts import is_chart
from .images import pod_spec_of
from .objects import is_builtin_api

# kinds whose readiness workloads of the same component wait for (their Secrets are mounted)
WAITED_FOR_KINDS = frozenset({"Certificate"})


def prerequisites(manifests: list[dict]) -> list[list[int]]:
    """For each manifest, the indexes (in the same list) of the manifests it must be applied after."""
    namespaces = {
        m["metadata"]["name"]: i
        for i, m in enumerate(manifests)
        if m["kind"] == "Namespace" and m["apiVersion"] == "v1"
    }
    providers: dict[str, list[int]] = {}
    for i, m in enumerate(manifests):
        if is_chart(m):
            for group in m["spec"].get("provides") or ():
                providers.setdefault(group, []).append(i)
    waited = [i for i, m in enumerate(manifests) if m["kind"] in WAITED_FOR_KINDS]
    out: list[list[int]] = []
    for i, m in enumerate(manifests):
        deps: list[int] = []
        ns = m["metadata"].get("namespace")
        if ns in namespaces:
            deps.append(namespaces[ns])
        if is_chart(m):
            for group in m["spec"].get("requires") or ():
                deps += providers.get(group, [])
        elif not is_builtin_api(m["apiVersion"]):
            deps += providers.get(api_group(m["apiVersion"]), [])
        if pod_spec_of(m) is not None:
            deps += waited
        out.append(sorted({d for d in deps if d != i}))
    return out


def apply_order(manifests: list[dict]) -> list[int]:
    """Indexes in an order that respects `prerequisites` (stable otherwise); ValueError on a cycle."""
    deps = prerequisites(manifests)
    done: list[int] = []
    placed: set[int] = set()
    visiting: set[int] = set()

    def visit(i: int) -> None:
        if i in placed:
            return
        if i in visiting:
            raise ValueError(f"dependency cycle through {manifests[i]['kind']} {manifests[i]['metadata']['name']}")
        visiting.add(i)
        for d in deps[i]:
            visit(d)
        visiting.discard(i)
        placed.add(i)
        done.append(i)

    for i in range(len(manifests)):
        visit(i)
    return done
