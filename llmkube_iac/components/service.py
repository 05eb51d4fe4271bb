"""`InferenceService`: one served model at one site, as a Pulumi component."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi

from ..plan.objects import SERVICE_TYPE
from ..plan.service import ServicePlan
from ..plan.stack import plan_alone
from ..spec import InferenceServiceSpec, ModelSpec, SiteSpec
from ..spec.router import RouterSpec
from .errors import invalid_input
from .register import register_manifests


class InferenceService(pulumi.ComponentResource):
    """Outputs the in-cluster OpenAI base URL, Service name and namespace for routers and clients."""

    def __init__(
        self,
        name: str,
        spec: InferenceServiceSpec | dict,
        site: SiteSpec | dict,
        model: ModelSpec | None = None,
        model_name: str | None = None,
        size_bytes: int | None = None,
        opts: pulumi.ResourceOptions | None = None,
        plan: ServicePlan | None = None,
        routers: Sequence[RouterSpec | dict] = (),
    ):
        """`plan` is the already-planned service (Site plans the whole stack before registering anything).
        `routers`: the routers that route to it (its NetworkPolicy admits exactly their zones; none: no router)."""
        with invalid_input():
            spec = spec if isinstance(spec, InferenceServiceSpec) else InferenceServiceSpec.model_validate(spec)
            site = site if isinstance(site, SiteSpec) else SiteSpec.model_validate(site)
            if model is None:
                if not isinstance(spec.model, ModelSpec):
                    raise ValueError(f"InferenceService {name}: model {spec.model!r} is a name; pass model=ModelSpec")
                model = spec.model
            inline = spec.model_copy(update={"model": model})
            model_name = model_name or inline.model_name
            super().__init__(SERVICE_TYPE, name, {"spec": inline.to_config(), "site": site.name}, opts)
            if plan is None:
                specs = [r if isinstance(r, RouterSpec) else RouterSpec.model_validate(r) for r in routers]
                planned = plan_alone(site, service=(inline, model, model_name, size_bytes), routers=specs)
                plan = planned.services[spec.name]
            self.resources = register_manifests(
                self, name, plan.manifests, site=site.name, protect=site.kubernetes.protect
            )
            self.base_url = pulumi.Output.from_input(plan.base_url)
            self.service_name = pulumi.Output.from_input(plan.service_name)
            self.namespace = pulumi.Output.from_input(plan.namespace)
            self.register_outputs(
                {
                    "baseUrl": self.base_url,
                    "serviceName": self.service_name,
                    "namespace": self.namespace,
                    "spec": inline.to_config(),
                    "site": site.name,
                }
            )
