"""airgap-images: in an air-gapped site every image a pod references (containers, init, ephemeral,
image volumes) comes from the site's registry mirrors; anything else would be pulled from outside.
Add-on charts are judged by the image values they are given (their rendered objects are third
party): each must point at a mirror, and a chart whose image keys are not known is refused."""

from __future__ import annotations

from ...plan.images import split_registry
from ..airgap_sites import air_gapped_sites, mirror_prefixes
from ..base import Rule, Violation
from ..view import StackView


def check_images(view: StackView, cfg: dict):
    for site in air_gapped_sites(view):
        prefixes = mirror_prefixes(site, cfg)
        for res, image in site.images():
            if not any(image.startswith(p) for p in prefixes):
                yield Violation(
                    f"{res.describe()} (site {site.spec.name}, air-gapped) uses image {image} from "
                    f"{split_registry(image)[0]}, not from the site's mirrors ({', '.join(p[:-1] for p in prefixes)})",
                    res.urn,
                )
        for res in site.addons:
            name = f"add-on {res.props.get('release') or res.name}"
            images = res.props.get("images")
            if images is None:
                yield Violation(
                    f"{name} (site {site.spec.name}, air-gapped): its image values are not known to "
                    "llmkube, so they cannot be pointed at the site's mirrors",
                    res.urn,
                )
                continue
            for image in images:
                value = str(image.get("value") or "")
                ref = f"{value}/" if image.get("prefix") else value
                if value and not any(ref.startswith(p) for p in prefixes):
                    yield Violation(
                        f"{name} (site {site.spec.name}, air-gapped): values key {image.get('key')} = "
                        f"{value} pulls from {split_registry(ref + 'x')[0]}, not from the site's mirrors "
                        f"({', '.join(p[:-1] for p in prefixes)})",
                        res.urn,
                    )


RULE = Rule(
    "airgap-images",
    "In an air-gapped site every image (containers, init, ephemeral, image volumes) comes "
    "from the site's registry mirrors.",
    "mandatory",
    "Mirror the image into the site's registry and reference it there (site.registryMirrors rewrites the "
    "pinned images of the runtimes and the add-on charts' image values; a service `image` override must "
    "already point at the mirror). An add-on whose images are not known: install it out of band.",
    "stack",
    check_images,
    {
        "extraRegistries": {
            "type": "array",
            "items": {"type": "string"},
            "default": [],
            "description": "More internal registry prefixes, e.g. registry.site.local/team",
        }
    },
)
