"""The per-site program body: read `llmkube:*` stack config, build the Site, export its outputs."""
from __future__ import annotations

import pulumi

from .site import Site
from ..spec import load_stack_config

CONFIG_KEYS = ("site", "models", "services", "routers", "teams")


def stack_config_from_pulumi(namespace: str = "llmkube") -> dict:
    cfg = pulumi.Config(namespace)
    raw = {}
    for key in CONFIG_KEYS:
        value = cfg.get_object(key)
        if value is not None:
            raw[key] = value
    return raw


def run() -> Site:
    """What stacks/__main__.py and the examples call."""
    config = load_stack_config(stack_config_from_pulumi())
    site = Site(config.site.name, config)
    pulumi.export("namespace", site.namespace)
    pulumi.export("serviceUrls", site.service_urls)
    return site
