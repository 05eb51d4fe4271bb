"""airgap-images: in an air-gapped site every image a pod references (containers, init, ephemeral,
image volumes) comes from the site's registry mirrors; anything else would be pulled from outside."""
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
                    res.urn)


RULE = (
    Rule("airgap-images", "In an air-gapped site every image (containers, init, ephemeral, image volumes) comes "
         "from the site's registry mirrors.", "mandatory",
         "Mirror the image into the site's registry and reference it there (site.registryMirrors rewrites the "
         "pinned images of the runtimes; a service `image` override must already point at the mirror).",
         "stack", check_images,
         {"extraRegistries": {"type": "array", "items": {"type": "string"}, "default": [],
                              "description": "More internal registry prefixes, e.g. registry.site.local/team"}})
)
