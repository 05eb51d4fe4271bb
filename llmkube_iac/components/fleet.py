"""`Fleet`: several sites from one program (one provider each), for platform repos that own many."""

from __future__ import annotations

import pulumi

from ..plan.federation import federation_exports, fill_peer_jurisdictions
from ..plan.objects import FLEET_TYPE
from ..spec import SiteSpec, StackConfig, load_stack_config
from ..spec.base import duplicates
from ..spec.errors import SpecError
from .errors import invalid_input
from .site import Site


class Fleet(pulumi.ComponentResource):
    def __init__(self, name: str, sites: list[StackConfig | dict], opts: pulumi.ResourceOptions | None = None):
        with invalid_input():
            configs = []
            problems = []
            sites = _with_peer_jurisdictions(sites)
            for i, cfg in enumerate(sites):  # validate every site before registering any
                try:
                    configs.append(cfg if isinstance(cfg, StackConfig) else load_stack_config(cfg))
                except SpecError as err:
                    problems += [(f"sites[{i}].{p}" if p else f"sites[{i}]", m) for p, m in err.problems]
            if problems:
                raise SpecError(problems)
            names = [c.site.name for c in configs]
            dupes = duplicates(names)
            if dupes:
                raise SpecError([("sites", f"duplicate site name(s): {', '.join(dupes)}")])
            super().__init__(FLEET_TYPE, name, {"sites": names}, opts)
            # sibling sites' federation endpoints are known here: peers among them need no stack reference
            exports = {c.site.name: federation_exports(c.site, c.routers) for c in configs}
            self.sites: dict[str, Site] = {}
            for c in configs:  # a loop, not a comprehension: one frame less for the SDK to walk per resource
                self.sites[c.site.name] = Site(
                    c.site.name, c, pulumi.ResourceOptions(parent=self), peer_exports=exports
                )
            self.register_outputs({"sites": names})


def _with_peer_jurisdictions(sites: list[StackConfig | dict]) -> list[StackConfig | dict]:
    """Raw site configs whose routers name a sibling site get its jurisdiction, as a fleet stack's do."""
    known = {}
    for cfg in sites:
        try:
            spec = cfg.site if isinstance(cfg, StackConfig) else SiteSpec.model_validate(cfg.get("site"))
        except (ValueError, AttributeError):
            continue  # reported with its field path when the config is validated
        known[spec.name] = spec.jurisdiction
    out: list[StackConfig | dict] = []
    problems = []
    for i, cfg in enumerate(sites):
        if isinstance(cfg, dict) and isinstance(cfg.get("routers"), list):
            routers, found = fill_peer_jurisdictions(known, cfg["routers"])
            # a site outside this fleet is another stack's: its jurisdiction is declared on the backend
            problems += [(f"sites[{i}].{p.removeprefix('llmkube:')}", m) for p, m in found if not p.endswith(".site")]
            cfg = {**cfg, "routers": routers}
        out.append(cfg)
    if problems:
        raise SpecError(problems)
    return out
