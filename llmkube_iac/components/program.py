"""The per-site program body: read `llmkube:*` stack config, build the Site, export its outputs.

Planning needs the configuration as plain values, so it is read as such; secrecy is kept where the
values go: the kubeconfig is a secret in the provider and in the recorded site spec. Keys that
hold models, services and routers end up in Kubernetes manifests, which cannot hold Pulumi
secrets, so a secret value there is refused rather than written out in plain text.
"""
from __future__ import annotations

import pulumi

from ..spec import load_stack_config
from ..spec.errors import SpecError
from .site import Site

CONFIG_KEYS = ("site", "models", "services", "routers", "teams")
# the site key may be secret (a kubeconfig set with `pulumi config set --secret --path`); the others may not
SECRET_ALLOWED = ("site",)
# set by a CI preview gate with no cluster: every site renders YAML into this directory instead of applying
RENDER_ONLY_KEY = "renderOnlyDir"


def stack_config_from_pulumi(namespace: str = "llmkube") -> dict:
    cfg = pulumi.Config(namespace)
    raw, problems = {}, []
    for key in CONFIG_KEYS:
        value = cfg.get_object(key)
        if value is None:
            continue
        if key not in SECRET_ALLOWED and pulumi.runtime.is_config_secret(cfg.full_key(key)):
            problems.append((key, f"{cfg.full_key(key)} holds a secret value, but its values become Kubernetes "
                                  "manifests in plain text: keep credentials in Kubernetes Secrets and reference them "
                                  "(hfTokenSecret, apiKeySecret, keySecret)"))
        raw[key] = value
    if problems:
        raise SpecError(problems)
    render_dir = cfg.get(RENDER_ONLY_KEY)
    if render_dir and isinstance(raw.get("site"), dict):
        raw["site"] = {**raw["site"], "kubernetes": {"renderOnly": True, "renderDir": render_dir,
                                                    **_kept(raw["site"].get("kubernetes"))}}
    return raw


def _kept(conn) -> dict:
    """What a render-only override keeps of the site's connection (not kubeconfig/context: no cluster)."""
    conn = conn if isinstance(conn, dict) else {}
    return {k: conn[k] for k in ("cluster", "protect") if k in conn}


def run() -> Site:
    """What stacks/__main__.py and the examples call."""
    config = load_stack_config(stack_config_from_pulumi())
    site = Site(config.site.name, config)
    pulumi.export("namespace", site.namespace)
    pulumi.export("serviceUrls", site.service_urls)
    return site
