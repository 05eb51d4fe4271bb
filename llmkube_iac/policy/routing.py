"""Routing residency: which data classes a Router can carry to which backends, checked on the spec.

Pure. Called by the `data-residency` rule for every Router; returns (field path, message) pairs so
the rule can report them like spec errors. Structural, not behavioural: the guard enforces the
same ceilings at run time, this refuses configurations that would even permit a leak.
"""
from __future__ import annotations

from ..spec import SiteSpec
from ..spec.router import ExternalBackend, RouterSpec, class_rank

PROTECTED = ("confidential", "restricted")


def _classes_up_to(ceiling: str) -> list[str]:
    order = ("public", "internal", "confidential", "restricted")
    return [c for c in order if class_rank(c) <= class_rank(ceiling)]


def routing_residency_violations(site: SiteSpec, router: RouterSpec,
                                 allowed_jurisdictions: dict[str, list[str]] | None = None) -> list[tuple[str, str]]:
    """Problems with a Router's routes; `allowed_jurisdictions` maps a class to the countries it may go to.

    - no route for confidential/restricted traffic reaches an external provider;
    - no backend receives a class it is not allowed to in its jurisdiction (local backends are in
      the site's jurisdiction);
    - a Router in an air-gapped site has no external zone at all.
    """
    out: list[tuple[str, str]] = []
    allowed = {k.lower(): [j.upper() for j in v] for k, v in (allowed_jurisdictions or {}).items()}
    where = f"routers[{router.name}]"
    if site.air_gapped and (router.has_external_zone or router.external_backends):
        out.append((f"{where}.externalZone", f"site {site.name} is air-gapped: the router may have no external zone "
                    "and no external backends (remove them or set externalZone: false)"))
    for i, b in enumerate(router.backends):
        path = f"{where}.backends[{i}]"
        if isinstance(b, ExternalBackend):
            ceiling, jurisdiction = b.max_classification, b.jurisdiction
            if ceiling in PROTECTED:
                out.append((f"{path}.maxClassification", f"external backend {b.name} ({b.provider}, {b.jurisdiction}) "
                            f"would receive {ceiling} data: external providers may receive public or internal only"))
        else:
            ceiling, jurisdiction = "restricted", site.jurisdiction
        for cls in _classes_up_to(ceiling):
            if cls in allowed and jurisdiction not in allowed[cls]:
                out.append((f"{path}", f"backend {b.name} is in {jurisdiction} but {cls} data may only be processed in "
                            f"{', '.join(allowed[cls]) or 'no jurisdiction'}"))
    return out
