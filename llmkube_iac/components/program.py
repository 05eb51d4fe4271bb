"""The per-site program body: read `llmkube:*` stack config, build the Site, export its outputs."""
from __future__ import annotations

import pulumi

from .site import Site
from ..spec import load_stack_config

CONFIG_KEYS = ("site", "models", "services", "routers")


def stack_config_from_pulumi(namespace: str = "llmkube") -> dict:
    cfg = pulumi.Config(namespace)
    raw = {}
    for key in CONFIG_KEYS:
        value = cfg.get_object(key)
        if value is not None:
            raw[key] = value
    return raw


def run() -> Site:
    """What stacks/__main__.py and the examples call; with `llmkube:fleet`, this stack's share of the fleet."""
    cfg = pulumi.Config("llmkube")
    fleet = cfg.get("fleet")
    if fleet is not None:
        from .fleet_stack import run_fleet

        site = run_fleet(fleet, cfg.get("fleetSite") or pulumi.get_stack(), stack_config_from_pulumi())
        if not isinstance(site, Site):  # "*": every site of the fleet from this program
            pulumi.export("serviceUrls", {n: s.service_urls for n, s in site.sites.items()})
            return site
    else:
        config = load_stack_config(stack_config_from_pulumi())
        site = Site(config.site.name, config)
    pulumi.export("namespace", site.namespace)
    pulumi.export("serviceUrls", site.service_urls)
    return site
