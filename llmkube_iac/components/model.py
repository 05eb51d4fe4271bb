"""`Model`: a model's weights cached at one site (PVC + download Job), as a Pulumi component."""

from __future__ import annotations

import pulumi

from ..plan.model import cache_claim_name, placement
from ..plan.objects import MODEL_TYPE
from ..plan.stack import plan_alone
from ..spec import ModelSpec, SiteSpec
from .errors import invalid_input
from .register import register_manifests


class Model(pulumi.ComponentResource):
    """Validates the spec, plans the cache, registers it; outputs where pods find the weights."""

    def __init__(
        self,
        name: str,
        spec: ModelSpec | dict,
        site: SiteSpec | dict,
        size_bytes: int | None = None,
        facts: dict | None = None,
        opts: pulumi.ResourceOptions | None = None,
        manifests: list[dict] | None = None,
        model_name: str | None = None,
        revision: dict | None = None,
    ):
        """`manifests` are the already-planned objects and `model_name` the object name they were planned
        under (Site plans the whole stack before registering); alone, the model is named spec.name or `name`.
        `revision` is how an hf:// source was pinned to a commit at plan time (modelinfo.revisions)."""
        with invalid_input():
            spec = spec if isinstance(spec, ModelSpec) else ModelSpec.model_validate(spec)
            site = site if isinstance(site, SiteSpec) else SiteSpec.model_validate(site)
            model_name = model_name or spec.name or name
            super().__init__(
                MODEL_TYPE,
                name,
                {"spec": spec.to_config(), "site": site.name, "facts": facts, "revision": revision},
                opts,
            )
            if manifests is None:
                manifests = plan_alone(site, model=(spec, model_name, size_bytes)).models[model_name][1]
            self.resources = register_manifests(self, name, manifests, site=site.name, protect=site.kubernetes.protect)
            place = placement(spec, model_name)
            self.model_name = model_name
            self.cache_key = pulumi.Output.from_input(place.cache_key)
            self.model_path = pulumi.Output.from_input(place.model_path)
            self.cache_claim = pulumi.Output.from_input(
                cache_claim_name(model_name) if spec.parsed_source.needs_download else None
            )
            self.register_outputs(
                {
                    "cacheKey": self.cache_key,
                    "modelPath": self.model_path,
                    "cacheClaim": self.cache_claim,
                    "facts": facts,
                    "revision": revision,
                    "spec": spec.to_config(),
                    "site": site.name,
                }
            )
