"""The per-site program body: read `llmkube:*` stack config, build the Site, export its outputs.

Planning needs the configuration as plain values, so it is read as such; secrecy is kept where the
values go: the kubeconfig is a secret in the provider and in the recorded site spec. Keys that
hold models, services and routers end up in Kubernetes manifests, which cannot hold Pulumi
secrets, so a secret value there is refused rather than written out in plain text.

Every `llmkube:` key must be one the program knows (a misspelled `llmkube:service` would otherwise
be ignored and its services silently not deployed), and each value must be the mapping or list
the configuration reference describes; both are refused as invalid input naming the key.
"""

from __future__ import annotations

import json

import pulumi

from ..plan.federation import EXPORT as FEDERATION_EXPORT
from ..plan.federation import federation_exports
from ..spec import load_stack_config
from ..spec.errors import SpecError
from .errors import invalid_input
from .site import Site

NAMESPACE = "llmkube"
CONFIG_KEYS = ("site", "models", "services", "routers", "teams")
# the site key may be secret (a kubeconfig set with `pulumi config set --secret --path`); the others may not
SECRET_ALLOWED = ("site",)
# set by a CI preview gate with no cluster: every site renders YAML into this directory instead of applying
RENDER_ONLY_KEY = "renderOnlyDir"
# a fleet stack: the fleet file this stack reads, and which of its sites the stack applies
FLEET_KEY, FLEET_SITE_KEY = "fleet", "fleetSite"
PROGRAM_KEYS = (*CONFIG_KEYS, RENDER_ONLY_KEY, FLEET_KEY, FLEET_SITE_KEY)  # every llmkube: key the program reads


def _configured_keys(namespace: str) -> set[str]:
    """Names of every `<namespace>:<name>` config key this run sees (set in-process or by the CLI)."""
    from pulumi.runtime.config import CONFIG, get_config_env

    keys = set(CONFIG.get()) | set(get_config_env())
    return {k.split(":", 1)[1] for k in keys if k.startswith(namespace + ":")}


def stack_config_from_pulumi(namespace: str = NAMESPACE) -> dict:
    cfg = pulumi.Config(namespace)
    problems = [
        (
            f"{namespace}:{key}",
            f"unknown config key; the program reads {', '.join(f'{namespace}:{k}' for k in PROGRAM_KEYS)}",
        )
        for key in sorted(_configured_keys(namespace) - set(PROGRAM_KEYS))
    ]
    raw = {}
    for key in CONFIG_KEYS:
        text = cfg.get(key)
        if text is None:
            continue
        secret = pulumi.runtime.is_config_secret(cfg.full_key(key))
        if key not in SECRET_ALLOWED and secret:
            problems.append(
                (
                    key,
                    f"{cfg.full_key(key)} holds a secret value, but its values become Kubernetes "
                    "manifests in plain text: keep credentials in Kubernetes Secrets and reference them "
                    "(hfTokenSecret, apiKeySecret, keySecret)",
                )
            )
            continue
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            value = None
        if not isinstance(value, (dict, list)):
            whole = (
                " (a secret as a whole: make only its fields secret, e.g. --path site.kubernetes.kubeconfig)"
                if secret
                else ""
            )
            problems.append(
                (key, f"{cfg.full_key(key)} must be a YAML mapping or list as in the configuration reference{whole}")
            )
            continue
        raw[key] = value
    if problems:
        raise SpecError(problems)
    render_dir = cfg.get(RENDER_ONLY_KEY)
    if render_dir and isinstance(raw.get("site"), dict):
        raw["site"] = {
            **raw["site"],
            "kubernetes": {"renderOnly": True, "renderDir": render_dir, **_kept(raw["site"].get("kubernetes"))},
        }
    return raw


def _kept(conn) -> dict:
    """What a render-only override keeps of the site's connection (not kubeconfig/context: no cluster)."""
    conn = conn if isinstance(conn, dict) else {}
    return {k: conn[k] for k in ("cluster", "protect") if k in conn}


def run() -> Site:
    """What stacks/__main__.py and the examples call; with `llmkube:fleet`, this stack's share of the fleet."""
    with invalid_input():
        cfg = pulumi.Config("llmkube")
        fleet = cfg.get(FLEET_KEY)
        if fleet is not None:
            from .fleet_stack import run_fleet

            site = run_fleet(fleet, cfg.get(FLEET_SITE_KEY) or pulumi.get_stack(), stack_config_from_pulumi())
            if not isinstance(site, Site):  # "*": every site of the fleet from this program
                pulumi.export("serviceUrls", {n: s.service_urls for n, s in site.sites.items()})
                return site
        else:
            config = load_stack_config(stack_config_from_pulumi())
            site = Site(config.site.name, config)
        pulumi.export("namespace", site.namespace)
        pulumi.export("serviceUrls", site.service_urls)
        # where this site's federation endpoints answer: other sites' stacks read it through stack references
        pulumi.export(FEDERATION_EXPORT, federation_exports(site.config.site, site.config.routers))
        return site
