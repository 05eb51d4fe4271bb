"""Federation between sites' Routers: the endpoint one site exposes, what its stack exports, and the
late-bound references another site's router plan carries until the stack reference resolves them.

Why references instead of values: where a peer Router answers (its URL and addresses) is a fact of
the peer's stack, exported by it (`federation_exports`) and read by every other stack through a
Pulumi stack reference, never copied into a second config. Plans stay pure and complete strings:
a planner writes a reference (`llmkube-peer://<stack>/<router>#<field>`) in exactly two places (a
container's LLMKUBE_UPSTREAM_* env value, a NetworkPolicy egress rule's `to`), and the Router component
binds those places, and only those, to the stack reference's output (`bind_peer_refs`) as it
registers the manifests. The offline engine answers the stack reference from the peer stack's own
config with the same `federation_exports`, so both engines see the same values.

The endpoint is the sovereign zone behind a LoadBalancer Service on port 443 (HTTPS only: the site
needs a certIssuer), admitted from the peers' declared source CIDRs only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from urllib.parse import urlsplit

from ..spec import SiteSpec
from ..spec.federation import FEDERATION_PORT, PeerBackend, too_wide
from ..spec.k8s import check_cidr
from ..spec.router import RouterSpec
from .errors import PlanError
from .meta import manifest, metadata
from .network import tcp_ports

EXPORT = "federation"  # the stack output every site's stack exports and peers read
REF_PREFIX = "llmkube-peer://"  # no image, host or CIDR a user writes starts like this
URL, ADDRESSES = "url", "addresses"
UPSTREAM_ENV_PREFIX = "LLMKUBE_UPSTREAM_"  # the env var holding a backend's base URL (plan/router_config.py)


def endpoint_name(router: RouterSpec) -> str:
    """The LoadBalancer Service of a router's federation endpoint (router names are at most 54 characters)."""
    return f"{router.name}-fed"


def endpoint_url(router: RouterSpec) -> str:
    assert router.federation is not None
    return f"https://{router.federation.host}/v1"


def check_federation(site: SiteSpec, router: RouterSpec) -> None:
    if router.federation and not site.cert_issuer:
        raise PlanError(
            "federation",
            f"site {site.name} has no certIssuer: a federation endpoint serves HTTPS only (set site.certIssuer to a "
            "cert-manager ClusterIssuer peers trust)",
        )


def federation_exports(site: SiteSpec, routers: Iterable[RouterSpec]) -> dict[str, dict]:
    """What a site's stack exports as `federation`: per Router with an endpoint, where it answers, the site's
    jurisdiction and the model groups its sovereign zone serves from this site (federation is one hop: a
    federated request is never sent on to a further site)."""
    out = {}
    for r in routers:
        if r.federation is None:
            continue
        sovereign = {b.name for b in r.local_backends}
        out[r.name] = {
            URL: endpoint_url(r),
            ADDRESSES: list(r.federation.addresses),
            "site": site.name,
            "jurisdiction": site.jurisdiction,
            "models": [g.name for g in r.model_groups if any(b in sovereign for b in g.backends)],
        }
    return out


def ref(backend: PeerBackend, field: str) -> str:
    return f"{REF_PREFIX}{backend.stack_name}/{backend.router}#{field}"


def parse_ref(value: str) -> tuple[str, str, str]:
    """(stack, router, field) of a reference written by `ref`."""
    path, _, field = value[len(REF_PREFIX) :].partition("#")
    stack, _, router = path.rpartition("/")
    return stack, router, field


def federation_service(site: SiteSpec, router: RouterSpec, labels: dict, selector: dict) -> dict:
    """The endpoint: a LoadBalancer Service over the sovereign zone's pods, open to the peers' CIDRs only.
    `externalTrafficPolicy: Local` keeps the callers' source addresses, which the zone's NetworkPolicy admits."""
    assert router.federation is not None
    return manifest(
        "v1",
        "Service",
        metadata(endpoint_name(router), site.namespace, labels),
        spec={
            "type": "LoadBalancer",
            "selector": selector,
            "externalTrafficPolicy": "Local",
            "loadBalancerSourceRanges": list(router.federation.clients),
            "ports": [{"name": "https", "port": FEDERATION_PORT, "targetPort": "http", "protocol": "TCP"}],
        },
    )


def federation_ingress(router: RouterSpec) -> list[dict]:
    """The sovereign zone's ingress rule for the peers' source CIDRs (on the proxy port, behind the LB)."""
    if router.federation is None:
        return []
    return [{"from": [{"ipBlock": {"cidr": c}} for c in router.federation.clients], "ports": tcp_ports([router.port])}]


def peer_egress(router: RouterSpec) -> list[dict]:
    """One egress rule per peer router: its exported addresses (a reference until bound) on port 443."""
    seen: dict[tuple[str, str], PeerBackend] = {}
    for b in router.peer_backends:
        seen.setdefault((b.stack_name, b.router), b)
    return [
        {"to": [{"ipBlock": {"cidr": ref(b, ADDRESSES)}}], "ports": tcp_ports([FEDERATION_PORT])}
        for _key, b in sorted(seen.items())
    ]


def has_refs(value) -> bool:
    if isinstance(value, str):
        return value.startswith(REF_PREFIX)
    if isinstance(value, Mapping):
        return any(has_refs(v) for v in value.values())
    if isinstance(value, list):
        return any(has_refs(v) for v in value)
    return False


def _ref_in(value: object) -> str | None:
    return value if isinstance(value, str) and value.startswith(REF_PREFIX) else None


def _addresses_ref(peers: object) -> str | None:
    """The reference of an egress `to` list written by `peer_egress` (one ipBlock holding it), else None."""
    if isinstance(peers, list) and len(peers) == 1 and isinstance(peers[0], Mapping) and set(peers[0]) == {"ipBlock"}:
        return _ref_in((peers[0]["ipBlock"] or {}).get("cidr"))
    return None


def bind_peer_refs(value, lookup: Callable[[str, str, str], object]):
    """`value` with the references bound by `lookup(stack, router, field)`: the value of an env entry named
    LLMKUBE_UPSTREAM_* (the URL), and an egress rule's `to` list (the ipBlocks lookup returns). A string that
    merely looks like a reference anywhere else is left alone."""
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if k == "to" and _addresses_ref(v):
                out[k] = lookup(*parse_ref(_addresses_ref(v) or ""))
            elif k == "env" and isinstance(v, list):
                out[k] = [_bind_env(e, lookup) for e in v]
            else:
                out[k] = bind_peer_refs(v, lookup)
        return out
    if isinstance(value, list):
        return [bind_peer_refs(v, lookup) for v in value]
    return value


def _bind_env(entry: object, lookup: Callable[[str, str, str], object]) -> object:
    if isinstance(entry, Mapping) and str(entry.get("name", "")).startswith(UPSTREAM_ENV_PREFIX):
        ref_value = _ref_in(entry.get("value"))
        if ref_value:
            return {**entry, "value": lookup(*parse_ref(ref_value))}
    return entry


def _port(parts) -> int | None:
    try:
        return parts.port or FEDERATION_PORT
    except ValueError:
        return None


def peer_entry(exported: object, stack: str, router: str, models: Iterable[str] = ()) -> dict:
    """The peer router's entry of a stack's `federation` output; a ValueError naming the fix otherwise."""
    entry = exported.get(router) if isinstance(exported, Mapping) else None
    if not isinstance(entry, Mapping) or not isinstance(entry.get(URL), str) or not entry.get(ADDRESSES):
        known = ", ".join(sorted(exported)) if isinstance(exported, Mapping) and exported else "none"
        raise ValueError(
            f"stack {stack} exports no federation endpoint for router {router} (endpoints it exports: {known}): "
            f"declare `federation` on that router and deploy that stack first (pulumi up -s {stack})"
        )
    url, addresses = entry[URL], entry[ADDRESSES]
    parts = urlsplit(url) if url.isascii() and url.isprintable() and " " not in url else None
    if (
        parts is None
        or parts.scheme != "https"
        or not parts.hostname
        or parts.username is not None
        or parts.query
        or parts.fragment
        or _port(parts) != FEDERATION_PORT
    ):
        raise ValueError(
            f"stack {stack} exports {url[:100]!r} for router {router}: federation is HTTPS on port "
            f"{FEDERATION_PORT} (https://<host>/v1)"
        )
    bad = [
        str(a)[:60]
        for a in (addresses if isinstance(addresses, list) else [addresses])
        if not isinstance(a, str) or check_cidr(a) or too_wide(a)
    ]
    if bad or not isinstance(addresses, list):
        raise ValueError(
            f"stack {stack} exports addresses {', '.join(bad)} for router {router}: not CIDRs of the endpoint "
            "(a site's network, never wider than /8 or /32 for IPv6)"
        )
    served = entry.get("models")
    served = served if isinstance(served, list) and all(isinstance(m, str) for m in served) else []
    missing = [m for m in models if m not in served]
    if missing:
        raise ValueError(
            f"router {router} of stack {stack} serves no model group {', '.join(missing)} in its sovereign zone "
            f"(it serves: {', '.join(served) or 'none'})"
        )
    return dict(entry)


def fill_peer_jurisdictions(jurisdictions: Mapping[str, str], routers: object) -> tuple[object, list]:
    """Raw `llmkube:routers` with each peer backend's jurisdiction taken from the fleet definition; problems name
    a peer site the fleet does not have or a declared jurisdiction that contradicts it."""
    if not isinstance(routers, list):
        return routers, []
    problems: list[tuple[str, str]] = []
    out = []
    for i, r in enumerate(routers):
        backends = r.get("backends") if isinstance(r, dict) else None
        if not isinstance(backends, list):
            out.append(r)
            continue
        filled = []
        for j, b in enumerate(backends):
            site = b.get("site") if isinstance(b, dict) and "service" not in b else None
            if isinstance(site, str):
                path = f"llmkube:routers[{i}].backends[{j}]"
                if site not in jurisdictions:
                    problems.append(
                        (f"{path}.site", f"unknown site {site!r} (fleet sites: {', '.join(jurisdictions)})")
                    )
                else:
                    declared = b.get("jurisdiction")
                    if isinstance(declared, str) and declared.upper() != jurisdictions[site]:
                        problems.append(
                            (
                                f"{path}.jurisdiction",
                                f"{declared} contradicts the fleet definition ({site} is in {jurisdictions[site]}): "
                                "remove it",
                            )
                        )
                    b = {**b, "jurisdiction": jurisdictions[site]}
            filled.append(b)
        out.append({**r, "backends": filled})
    return out, problems
