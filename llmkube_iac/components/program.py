"""The per-site program body: read `llmkube:*` stack config, build the Site, export its outputs.

Every `llmkube:` key must be one the stack config knows (a misspelled `llmkube:service` would
otherwise be ignored and its services silently not deployed), and each value must be the JSON the
Pulumi CLI hands over; both are refused as invalid input naming the key.
"""
from __future__ import annotations

import json

import pulumi

from ..spec import SpecError, StackConfig, load_stack_config
from .site import Site

NAMESPACE = "llmkube"
CONFIG_KEYS = tuple(f.alias or name for name, f in StackConfig.model_fields.items())  # site, models, ...


def _configured_keys(namespace: str) -> set[str]:
    """Names of every `<namespace>:<name>` config key this run sees (set in-process or by the CLI)."""
    from pulumi.runtime.config import CONFIG, get_config_env

    keys = set(CONFIG.get()) | set(get_config_env())
    return {k.split(":", 1)[1] for k in keys if k.startswith(namespace + ":")}


def stack_config_from_pulumi(namespace: str = NAMESPACE) -> dict:
    unknown = sorted(_configured_keys(namespace) - set(CONFIG_KEYS))
    problems = [(f"{namespace}:{key}", f"unknown config key; the stack config has "
                                       f"{', '.join(f'{namespace}:{k}' for k in CONFIG_KEYS)}") for key in unknown]
    cfg = pulumi.Config(namespace)
    raw = {}
    for key in CONFIG_KEYS:
        text = cfg.get(key)
        if text is None:
            continue
        try:
            raw[key] = json.loads(text)
        except (ValueError, RecursionError):
            problems.append((f"{namespace}:{key}", "must be a YAML mapping or list (as in the configuration "
                                                   "reference), not a plain string"))
    if problems:
        raise SpecError(problems)
    return raw


def run() -> Site:
    """What stacks/__main__.py and the examples call."""
    config = load_stack_config(stack_config_from_pulumi())
    site = Site(config.site.name, config)
    pulumi.export("namespace", site.namespace)
    pulumi.export("serviceUrls", site.service_urls)
    return site
