"""router-tls (stack, advisory): a router at a site without a certificate issuer serves plain HTTP.

Its clients send team keys (and their prompts) in clear text, and it forwards metal hosts' API keys
the same way. Where the site names a cert-manager ClusterIssuer (site.certIssuer), routers serve
HTTPS by default; where it does not, this rule says so loudly on every plan instead of staying quiet."""

from __future__ import annotations

from ..base import Rule, Violation
from ..view import StackView


def check_router_tls(view: StackView, cfg: dict):
    for site in view.sites.values():
        if site.spec.cert_issuer:
            continue
        for res, router in site.routers:
            yield Violation(
                f"router {router.name} at site {site.spec.name} serves plain HTTP: team keys and prompts "
                "cross the network in clear text (the site has no certIssuer)",
                res.urn,
            )


RULE = Rule(
    "router-tls",
    "A router at a site without a certificate issuer serves plain HTTP (keys and prompts in clear "
    "text); with site.certIssuer it serves HTTPS.",
    "advisory",
    "Set site.certIssuer to a cert-manager ClusterIssuer: every router zone then gets a Certificate and serves "
    "HTTPS (clients use the https:// URLs the Router component exports).",
    "stack",
    check_router_tls,
    {},
)
