"""airgap-egress: every namespace an air-gapped (or default-deny) site uses has a default-deny
egress NetworkPolicy, and no rule of it allows every destination: a pod must not reach the internet."""

from __future__ import annotations

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


RULE = Rule(
    "airgap-egress",
    "Every namespace an air-gapped (or default-deny) site uses has a default-deny egress "
    "NetworkPolicy whose allowlist names its destinations.",
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
