"""airgap-egress: every namespace an air-gapped (or default-deny) site uses has a default-deny
egress NetworkPolicy, and no rule of it allows every destination: a pod must not reach the internet.

NetworkPolicies are additive, so a workload's own policy could open what the default-deny closes:
at an air-gapped site every address block any policy lets a pod reach must lie inside what the site
declared reachable: egressAllowCIDRs and its metal hosts for any pod, and peerCIDRs (other sites'
federation endpoints) for the router pods' HTTPS rules only."""

from __future__ import annotations

import ipaddress

from ...spec.federation import FEDERATION_PORT
from ..base import Rule, Violation
from ..view import StackView

_CLUSTER_SCOPED = ("Namespace", "PriorityClass", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition")


def _allow_all(rule: dict) -> bool:
    peers = rule.get("to")
    if not peers:
        return True  # no `to`: every destination
    return any(p.get("ipBlock", {}).get("cidr") in ("0.0.0.0/0", "::/0") for p in peers) or any(
        p == {"namespaceSelector": {}} for p in peers
    )


def check_egress(view: StackView, cfg: dict):
    yield from check_declared_blocks(view)
    for site in view.sites.values():
        if not (site.spec.air_gapped or site.spec.deny_egress or cfg.get("allSites")):
            continue
        namespaces = sorted(
            {
                (r.props.get("metadata") or {}).get("namespace") or site.spec.namespace
                for r in site.objects
                if r.kind not in _CLUSTER_SCOPED
            }
        )
        policies = [r for r in site.objects if r.kind == "NetworkPolicy"]
        for ns in namespaces:
            denies = [
                p
                for p in policies
                if ((p.props.get("metadata") or {}).get("namespace") or site.spec.namespace) == ns
                and (p.props.get("spec") or {}).get("podSelector") == {}
                and "Egress" in ((p.props.get("spec") or {}).get("policyTypes") or [])
            ]
            if not denies:
                yield Violation(
                    f"namespace {ns} (site {site.spec.name}) has no default-deny egress NetworkPolicy "
                    "(podSelector: {}, policyTypes: [Egress])",
                    site.res.urn,
                )
                continue
            for p in denies:
                for i, rule in enumerate((p.props.get("spec") or {}).get("egress") or []):
                    if _allow_all(rule):
                        yield Violation(
                            f"{p.describe()} (site {site.spec.name}) egress[{i}] allows every destination: "
                            "the allowlist must name DNS, in-namespace peers and internal CIDRs",
                            p.urn,
                        )


def _blocks(policy) -> list[tuple[int, str, bool]]:
    """(egress rule index, cidr, whether the rule is HTTPS only) of every ipBlock a policy lets pods reach."""
    out = []
    for i, rule in enumerate((policy.props.get("spec") or {}).get("egress") or []):
        ports = rule.get("ports") or []
        https_only = bool(ports) and all(p.get("port") == FEDERATION_PORT for p in ports if isinstance(p, dict))
        for peer in rule.get("to") or []:
            cidr = (peer.get("ipBlock") or {}).get("cidr") if isinstance(peer, dict) else None
            if isinstance(cidr, str):
                out.append((i, cidr, https_only))
    return out


def _is_router(policy) -> bool:
    labels = (policy.props.get("metadata") or {}).get("labels") or {}
    return labels.get("app.kubernetes.io/component") == "router"


def _inside(cidr: str, allowed: list) -> bool:
    try:
        net = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
    return any(net.version == a.version and net.subnet_of(a) for a in allowed)


def check_declared_blocks(view: StackView):
    for site in view.sites.values():
        if not site.spec.air_gapped:
            continue
        allowed = [ipaddress.ip_network(c, strict=False) for c in site.spec.network.egress_allow_cidrs]
        allowed += [ipaddress.ip_network(h.cidr, strict=False) for h in site.spec.metal_hosts]
        peers = [ipaddress.ip_network(c, strict=False) for c in site.spec.network.peer_cidrs]
        for p in (r for r in site.objects if r.kind == "NetworkPolicy"):
            router = _is_router(p)
            for i, cidr, https_only in _blocks(p):
                if not _inside(cidr, allowed + (peers if router and https_only else [])):
                    yield Violation(
                        f"{p.describe()} (site {site.spec.name}, air-gapped) egress[{i}] reaches {cidr}, outside "
                        f"the site's declared reach ({', '.join(map(str, allowed)) or 'none'}): a peer site's "
                        "federation endpoint goes in site.network.peerCIDRs (router pods, HTTPS only), anything "
                        "else the site may really reach in egressAllowCIDRs",
                        p.urn,
                    )


RULE = Rule(
    "airgap-egress",
    "Every namespace an air-gapped (or default-deny) site uses has a default-deny egress "
    "NetworkPolicy whose allowlist names its destinations, and no policy at an air-gapped site reaches "
    "an address block outside what the site declared reachable.",
    "mandatory",
    "Keep site.network.defaultDenyEgress on (the default when airGapped) and list internal destinations in "
    "site.network.egressAllowCIDRs instead of allowing 0.0.0.0/0.",
    "stack",
    check_egress,
    {
        "allSites": {
            "type": "boolean",
            "default": False,
            "description": "Require default-deny egress in every site, not only air-gapped ones",
        }
    },
)
