"""`Router`: a thin component over plan_router — one governed OpenAI endpoint per trust zone.

Validates into a RouterSpec, plans (pure), registers each manifest as a child and exposes the
zones' base URLs. Policies read the spec from the component's `spec` property.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi

from ..plan.federation import bind_peer_refs, has_refs
from ..plan.objects import ROUTER_TYPE
from ..plan.router import zone_urls
from ..plan.stack import plan_alone
from ..spec import InferenceServiceSpec, SiteSpec
from ..spec.router import RouterSpec
from .errors import invalid_input
from .federation import peer_lookup
from .register import register_manifests


class Router(pulumi.ComponentResource):
    """Outputs: sovereignUrl, externalUrl (None without an external zone), serviceNames."""

    def __init__(
        self,
        name: str,
        spec: RouterSpec | dict,
        site: SiteSpec,
        services: Sequence[InferenceServiceSpec],
        opts: pulumi.ResourceOptions | None = None,
        manifests: list[dict] | None = None,
        peer_exports: dict[str, dict] | None = None,
    ):
        """`manifests` are the already-planned objects (Site plans the whole stack before registering);
        `peer_exports` the `federation` exports of sites in the same program, by stack (site) name."""
        with invalid_input():
            spec = spec if isinstance(spec, RouterSpec) else RouterSpec.model_validate(spec)
            if manifests is None:  # raises before registering
                manifests = plan_alone(site, router=(spec, services)).routers[spec.name]
            super().__init__(ROUTER_TYPE, name, {"spec": spec.to_config(), "site": site.name}, opts)
            self.spec = spec
            if spec.peer_backends:  # other sites' URLs and addresses: outputs of their stacks
                lookup = peer_lookup(self, name, spec, peer_exports or {})
                manifests = [bind_peer_refs(m, lookup) if has_refs(m) else m for m in manifests]
            self.resources = register_manifests(self, name, manifests, site=site.name, protect=site.kubernetes.protect)
            urls = zone_urls(site, spec)
            self.sovereign_url = pulumi.Output.from_input(urls["sovereign"])
            self.external_url = pulumi.Output.from_input(urls.get("external"))
            names = [spec.name] + ([spec.external_name] if spec.has_external_zone else [])
            self.service_names = pulumi.Output.from_input(names)
            self.register_outputs(
                {
                    "sovereignUrl": self.sovereign_url,
                    "externalUrl": self.external_url,
                    "serviceNames": self.service_names,
                    "spec": spec.to_config(),
                    "site": site.name,
                }
            )
