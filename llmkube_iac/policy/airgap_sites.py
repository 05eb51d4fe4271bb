"""What an air-gapped site declares internal: its registry mirrors, model stores, Hugging Face
mirror and chart registry. Shared by the airgap-* rules, so each reads the declaration one way."""

from __future__ import annotations

from urllib.parse import urlsplit

from .view import SiteView, StackView


def air_gapped_sites(view: StackView) -> list[SiteView]:
    return [s for s in view.sites.values() if s.spec.air_gapped]


def host_of(entry: str) -> str:
    """`registry.site.local/mirror` or `http://store:9000/x` -> the host part."""
    if "://" in entry:
        return (urlsplit(entry).hostname or "").lower()
    return entry.split("/")[0].split(":")[0].lower()


def mirror_prefixes(site: SiteView, cfg: dict) -> list[str]:
    """Image prefixes the site pulls from: its registry mirrors plus the rule's extraRegistries."""
    return [m.mirror.rstrip("/") + "/" for m in site.spec.registry_mirrors] + [
        r.rstrip("/") + "/" for r in cfg.get("extraRegistries", [])
    ]
