"""A site's stack as its share of a fleet: `llmkube:fleet` names the fleet definition every site's
stack reads, `llmkube:fleetSite` the site this stack applies (default: the stack's name; "*": every
site from one program). Placement (plan/placement.py) runs in each stack on the same definition,
so `pulumi up -s <site>` applies exactly that site's share, and every stack records the whole
fleet's placement (a `llmkube:index:Placement` component: plan.json and the report read it).
"""

from __future__ import annotations

import json
from pathlib import Path

import pulumi

from ..plan.placement import FleetPlacement, place_fleet, refusals, site_share
from ..render.pulumi_yaml import load_file
from ..spec import load_stack_config
from ..spec.errors import SpecError
from ..spec.fleet import FleetSpec, load_fleet

PLACEMENT = "llmkube:index:Placement"


def read_fleet(value: str, base: Path | None = None) -> FleetSpec:
    """`llmkube:fleet` is the definition itself (a mapping) or the path of a YAML/JSON file holding it
    (relative to the program's directory: the working directory of a running program, else `base`)."""
    text = value.strip()
    if text.startswith("{"):
        try:
            return load_fleet(json.loads(text))
        except (ValueError, RecursionError) as exc:
            if isinstance(exc, SpecError):
                raise
            raise SpecError([("llmkube:fleet", f"not a JSON mapping: {str(exc)[:200]}")]) from None
    # read like the stack files (the Pulumi CLI's YAML rules, bounded): NO is a string, duplicate keys,
    # alias bombs and deep nesting are errors with file, line and path
    path = Path(text) if base is None else base / text
    if not path.is_file():
        raise SpecError([("llmkube:fleet", f"cannot read the fleet definition {text}: no such file")])
    return load_fleet(load_file(path, label=f"llmkube:fleet {text}"))


class Placement(pulumi.ComponentResource):
    """The fleet's placement as a resource: chosen site and pool, cost, and each rejected site's reason."""

    def __init__(
        self,
        name: str,
        fleet: FleetSpec,
        placement: FleetPlacement,
        site: str,
        opts: pulumi.ResourceOptions | None = None,
    ):
        props = {
            "site": site,
            "placements": placement.to_dict(),
            "sites": [{"name": s.name, "jurisdiction": s.jurisdiction, "airGapped": s.air_gapped} for s in fleet.sites],
        }
        super().__init__(PLACEMENT, name, props, opts)
        self.register_outputs(props)


def run_fleet(fleet_value: str, site_name: str, local: dict):
    """Place, refuse what nowhere can take (nothing registered), then build this stack's site(s)."""
    from .fleet import Fleet
    from .site import Site

    fleet = read_fleet(fleet_value)
    placement = place_fleet(fleet)
    problems = refusals(fleet, placement)
    if problems:
        raise SpecError(problems)
    names = [s.name for s in fleet.sites] if site_name == "*" else [fleet.site(site_name).name]
    configs = [load_stack_config(site_share(fleet, placement, n, local)) for n in names]
    Placement("fleet-placement", fleet, placement, site_name)
    if site_name == "*":
        return Fleet("fleet", configs)
    return Site(site_name, configs[0])
