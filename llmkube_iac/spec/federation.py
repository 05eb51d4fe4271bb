"""Federation: one site's Router routing to another site's Router, and the endpoint that admits it.

Why its own spec: a cross-site route leaves the site, so it carries what a provider route carries
(a ceiling and a jurisdiction the data-residency rule judges) and what a local route does not (the
peer's key, TLS). Where the peer answers is not declared here: the peer's stack exports it and this
stack reads it through a stack reference (plan/federation.py), so a URL is never copied by hand.
"""

from __future__ import annotations

import ipaddress
import re

from pydantic import Field, field_validator

from .base import SecretKeyRef, SpecModel, check_country, check_dns_label
from .k8s import Cidr, Host
from .service import Classification

# The federation endpoint is a LoadBalancer Service answering HTTPS on this port (peers' egress allows it).
FEDERATION_PORT = 443
# The widest range a federation endpoint or its clients may be declared as: a site's network, never "anywhere"
# (two /1 ranges are the internet as surely as one /0).
WIDEST_PREFIX = {4: 8, 6: 32}
_STACK = re.compile(r"^[A-Za-z0-9_.-]{1,100}(/[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100})?\Z")


def too_wide(cidr: str) -> str | None:
    """Why a federation range is too wide to be a site's network (None: it is not)."""
    net = ipaddress.ip_network(cidr, strict=False)
    widest = WIDEST_PREFIX[net.version]
    if net.prefixlen < widest:
        return f"{cidr} is wider than a site's network (at most /{widest} for IPv{net.version}): name the peers' ranges"
    return None


class PeerBackend(SpecModel):
    """Another site's Router (its sovereign zone) as a backend of this one, over TLS with this router's own key."""

    name: str = Field(description="Backend name (DNS label) model groups list")
    site: str = Field(description="The fleet site whose Router serves this backend (not this site)")
    router: str = Field(description="Name of that site's Router (it must declare `federation`)")
    model: str = Field(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$",
        description="The model group to ask that Router for",
    )
    stack: str | None = Field(
        None,
        description="The Pulumi stack that deploys that site (its `federation` output gives the URL): a stack of "
        "this project and organization, or `<organization>/<project>/<stack>`; default: the site's name",
    )
    key_secret: SecretKeyRef = Field(
        description="Secret key holding this router's key at the peer (a team key of the peer Router)"
    )
    max_classification: Classification = Field(
        "public", description="Highest class this route may carry (data-residency judges it at the peer's jurisdiction)"
    )
    jurisdiction: str | None = Field(
        None,
        description="ISO 3166-1 alpha-2 code of the peer site; filled from the fleet definition (a declared one must "
        "match it); required outside a fleet",
    )
    rpm: int | None = Field(None, gt=0, description="Per-deployment requests/minute used by the router")

    @field_validator("name", "site", "router")
    @classmethod
    def _labels(cls, v: str) -> str:
        return check_dns_label(v, "name")

    @field_validator("jurisdiction")
    @classmethod
    def _country(cls, v: str | None) -> str | None:
        return check_country(v) if v is not None else v

    @field_validator("stack")
    @classmethod
    def _stack(cls, v: str | None) -> str | None:
        if v is not None and not _STACK.match(v):
            raise ValueError(
                f"{v[:80]!r} is not a stack name: a name of letters, digits, '-', '_' and '.', or "
                "<organization>/<project>/<stack>"
            )
        return v

    @property
    def stack_name(self) -> str:
        return self.stack or self.site


class FederationSpec(SpecModel):
    """This Router's sovereign zone as a federation endpoint other sites' Routers call (HTTPS on port 443)."""

    host: Host = Field(
        description="DNS name peers call (it must resolve to the LoadBalancer address); the router's Certificate "
        "includes it, so the site needs certIssuer"
    )
    addresses: tuple[Cidr, ...] = Field(
        min_length=1,
        description="Where the endpoint answers (the LoadBalancer's address range): peers' egress NetworkPolicies "
        "allow exactly these",
    )
    clients: tuple[Cidr, ...] = Field(
        min_length=1,
        description="Source CIDRs of the peer sites allowed to call (LoadBalancer source ranges and the zone's "
        "ingress NetworkPolicy)",
    )

    @field_validator("host")
    @classmethod
    def _dns_name(cls, v: str) -> str:
        try:
            ipaddress.ip_address(v)
        except ValueError:
            if "." not in v.strip("."):
                raise ValueError(
                    f"{v} is a single-label name: give the fully qualified name peers resolve (e.g. gw.dc.example.com)"
                ) from None
            return v.lower()
        raise ValueError(
            f"{v} is an address: give the DNS name peers call (the certificate names it; addresses go in `addresses`)"
        )

    @field_validator("addresses", "clients")
    @classmethod
    def _bounded(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for c in v:
            reason = too_wide(c)
            if reason:
                raise ValueError(reason)
        return v
