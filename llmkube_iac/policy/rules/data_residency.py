"""data-residency: a workload may serve a data class only where the site's jurisdiction is allowed
for that class, and a Router may only send a class to backends allowed for it.

Defaults: public and internal anywhere; confidential and restricted only in the EU/EEA (the GDPR
area). A deployment outside it lists its own jurisdictions in the pack config. The router check is
structural, not behavioural: the guard enforces the same ceilings at run time, this refuses
configurations that would even permit a leak."""

from __future__ import annotations

from ...spec import CLASSIFICATION_ORDER, SiteSpec
from ...spec.federation import PeerBackend
from ...spec.router import ExternalBackend, RouterSpec, class_rank
from ..base import Rule, Violation
from ..view import StackView

EU_EEA = (
    "AT",
    "BE",
    "BG",
    "HR",
    "CY",
    "CZ",
    "DK",
    "EE",
    "FI",
    "FR",
    "DE",
    "GR",
    "HU",
    "IE",
    "IT",
    "LV",
    "LT",
    "LU",
    "MT",
    "NL",
    "PL",
    "PT",
    "RO",
    "SK",
    "SI",
    "ES",
    "SE",
    "IS",
    "LI",
    "NO",
)
DEFAULT_ALLOWED = {"public": ["*"], "internal": ["*"], "confidential": list(EU_EEA), "restricted": list(EU_EEA)}
PROTECTED = ("confidential", "restricted")  # classes no external provider may receive


def allowed_jurisdictions(cfg: dict) -> dict[str, list[str]]:
    """Per class, the allowed ISO codes ("*" = anywhere); classes the user omits keep the default."""
    user = cfg.get("allowedJurisdictions") or {}
    out = {}
    for cls in CLASSIFICATION_ORDER:
        codes = user.get(cls, DEFAULT_ALLOWED[cls])
        out[cls] = [str(c).upper() if c != "*" else "*" for c in codes]
    return out


def jurisdiction_allowed(jurisdiction: str, classification: str, allowed: dict[str, list[str]]) -> bool:
    codes = allowed.get(classification, [])
    return "*" in codes or jurisdiction.upper() in codes


def check_residency(view: StackView, cfg: dict):
    allowed = allowed_jurisdictions(cfg)
    for site in view.sites.values():
        where = site.spec.jurisdiction
        for svc in site.services:
            cls = svc.spec.classification
            if not jurisdiction_allowed(where, cls, allowed):
                yield Violation(
                    f"service {svc.spec.name} serves {cls} data at site {site.spec.name} (jurisdiction {where}); "
                    f"{cls} data is allowed only in {', '.join(allowed[cls]) or 'no jurisdiction'}",
                    svc.res.urn,
                )
        if site.routers:
            bounded = {cls: codes for cls, codes in allowed.items() if "*" not in codes}  # "*": no constraint
            for res, router in site.routers:
                for path, message in routing_residency_violations(site.spec, router, bounded):
                    yield Violation(f"{path}: {message}", res.urn)


def _classes_up_to(ceiling: str) -> tuple[str, ...]:
    return CLASSIFICATION_ORDER[: class_rank(ceiling) + 1]


def routing_residency_violations(
    site: SiteSpec, router: RouterSpec, allowed_jurisdictions: dict[str, list[str]] | None = None
) -> list[tuple[str, str]]:
    """Problems with a Router's routes as (field path, message) pairs, reported like spec errors;
    `allowed_jurisdictions` maps a class to the countries it may go to.

    - no route for confidential/restricted traffic reaches an external provider;
    - no backend receives a class it is not allowed to in its jurisdiction (local backends are in
      the site's jurisdiction, another site's Router in that site's: a cross-site route is judged
      like a provider route, up to its maxClassification, but may carry protected classes);
    - a Router in an air-gapped site has no external zone at all.
    """
    out: list[tuple[str, str]] = []
    allowed = {k.lower(): [j.upper() for j in v] for k, v in (allowed_jurisdictions or {}).items()}
    where = f"routers[{router.name}]"
    if site.air_gapped and (router.has_external_zone or router.external_backends):
        out.append(
            (
                f"{where}.externalZone",
                f"site {site.name} is air-gapped: the router may have no external zone "
                "and no external backends (remove them or set externalZone: false)",
            )
        )
    for i, b in enumerate(router.backends):
        path = f"{where}.backends[{i}]"
        if isinstance(b, ExternalBackend):
            ceiling, jurisdiction = b.max_classification, b.jurisdiction
            if ceiling in PROTECTED:
                out.append(
                    (
                        f"{path}.maxClassification",
                        f"external backend {b.name} ({b.provider}, {b.jurisdiction}) "
                        f"would receive {ceiling} data: external providers may receive public or internal only",
                    )
                )
        elif isinstance(b, PeerBackend):
            ceiling, jurisdiction = b.max_classification, b.jurisdiction or ""
            if not b.jurisdiction:
                out.append(
                    (
                        f"{path}.jurisdiction",
                        f"backend {b.name} routes to site {b.site}, whose jurisdiction is unknown: refused "
                        "(a fleet stack fills it from the fleet definition)",
                    )
                )
                continue
        else:
            ceiling, jurisdiction = "restricted", site.jurisdiction
        for cls in _classes_up_to(ceiling):
            if cls in allowed and jurisdiction not in allowed[cls]:
                out.append(
                    (
                        f"{path}",
                        f"backend {b.name} is in {jurisdiction} but {cls} data may only be processed in "
                        f"{', '.join(allowed[cls]) or 'no jurisdiction'}",
                    )
                )
    return out


RULE = Rule(
    "data-residency",
    "A service may serve a data class (public < internal < confidential < restricted) only "
    "at a site whose jurisdiction is allowed for that class; routers may only send a class to backends "
    "allowed for it.",
    "mandatory",
    "Serve the data from a site in an allowed jurisdiction, lower the service's classification if the data "
    "really is less sensitive, or (with your DPO) add the jurisdiction to allowedJurisdictions.<class>.",
    "stack",
    check_residency,
    {
        "allowedJurisdictions": {
            "type": "object",
            "default": DEFAULT_ALLOWED,
            "description": "Per class, ISO 3166-1 alpha-2 codes where it may be processed ('*' = anywhere)",
            "properties": {c: {"type": "array", "items": {"type": "string"}} for c in CLASSIFICATION_ORDER},
        }
    },
)
