"""`Model`: a model's weights cached at one site (PVC + download Job), as a Pulumi component."""
from __future__ import annotations

import pulumi

from ..plan.images import apply_site_images
from ..plan.model import cache_claim_name, placement, plan_model
from .register import register_manifests
from ..spec import ModelSpec, SiteSpec


class Model(pulumi.ComponentResource):
    """Validates the spec, plans the cache, registers it; outputs where pods find the weights."""

    def __init__(self, name: str, spec: ModelSpec | dict, site: SiteSpec | dict,
                 size_bytes: int | None = None, facts: dict | None = None,
                 opts: pulumi.ResourceOptions | None = None, manifests: list[dict] | None = None):
        """`manifests` are the already-planned objects (Site plans the whole stack before registering)."""
        spec = spec if isinstance(spec, ModelSpec) else ModelSpec.model_validate(spec)
        site = site if isinstance(site, SiteSpec) else SiteSpec.model_validate(site)
        model_name = spec.name or name
        super().__init__("llmkube:index:Model", name,
                         {"spec": spec.to_config(), "site": site.name, "facts": facts}, opts)
        if manifests is None:
            manifests = apply_site_images(plan_model(site, spec, model_name, size_bytes), site)
        self.resources = register_manifests(self, name, manifests)
        place = placement(spec, model_name)
        self.model_name = model_name
        self.cache_key = pulumi.Output.from_input(place.cache_key)
        self.model_path = pulumi.Output.from_input(place.model_path)
        self.cache_claim = pulumi.Output.from_input(cache_claim_name(model_name) if spec.parsed_source.needs_download
                                                    else None)
        self.register_outputs({"cacheKey": self.cache_key, "modelPath": self.model_path,
                               "cacheClaim": self.cache_claim, "facts": facts,
                               "spec": spec.to_config(), "site": site.name})
