"""data-residency: a workload may serve a data class only where the site's jurisdiction is allowed
for that class. Defaults: public and internal anywhere; confidential and restricted only in the
EU/EEA (the GDPR area). A deployment outside it lists its own jurisdictions in the pack config."""
from __future__ import annotations

from ..spec import CLASSIFICATION_ORDER
from .base import Rule, Violation
from .routing import routing_residency_violations
from .view import StackView

EU_EEA = ("AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT",
          "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO")
DEFAULT_ALLOWED = {"public": ["*"], "internal": ["*"], "confidential": list(EU_EEA), "restricted": list(EU_EEA)}


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
                    f"{cls} data is allowed only in {', '.join(allowed[cls]) or 'no jurisdiction'}", svc.res.urn)
        if site.routers:
            bounded = {cls: codes for cls, codes in allowed.items() if "*" not in codes}  # "*": no constraint
            for res, router in site.routers:
                for path, message in routing_residency_violations(site.spec, router, bounded):
                    yield Violation(f"{path}: {message}", res.urn)


RULES = [
    Rule("data-residency", "A service may serve a data class (public < internal < confidential < restricted) only "
         "at a site whose jurisdiction is allowed for that class; routers may only send a class to backends "
         "allowed for it.", "mandatory",
         "Serve the data from a site in an allowed jurisdiction, lower the service's classification if the data "
         "really is less sensitive, or (with your DPO) add the jurisdiction to allowedJurisdictions.<class>.",
         "stack", check_residency,
         {"allowedJurisdictions": {
             "type": "object", "default": DEFAULT_ALLOWED,
             "description": "Per class, ISO 3166-1 alpha-2 codes where it may be processed ('*' = anywhere)",
             "properties": {c: {"type": "array", "items": {"type": "string"}} for c in CLASSIFICATION_ORDER}}}),
]
