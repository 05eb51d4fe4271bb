"""FleetSpec: sites and fleet-level services that the planner places on them (plan/placement.py).

Why a separate document: per-site stacks (`pulumi up -s <site>`) must agree on who serves what,
so the fleet is one definition every site's stack reads (`llmkube:fleet`), and placement is a
pure function of it: the same file gives the same placement in every stack.
"""

from __future__ import annotations

from pydantic import Field, ValidationError, field_validator, model_validator

from .. import runtimes
from .base import SpecModel, check_country, duplicates
from .errors import SpecError, from_validation_error
from .model import ModelSpec
from .service import CLASSIFICATION_ORDER, InferenceServiceSpec, Vendor
from .site import SiteSpec


class PlacementSpec(SpecModel):
    """Where a fleet-level service may go; residency, air-gap reachability, fit, capacity and cost decide
    among the sites that remain."""

    jurisdictions: tuple[str, ...] = Field(
        (),
        description="ISO 3166-1 alpha-2 codes of the sites it may run at; empty: any the service's "
        "classification allows (data residency)",
    )
    vendors: tuple[Vendor, ...] = Field(
        (), description="Accelerator vendors it may run on (its runtime must run on each); empty: accelerator.vendor"
    )
    min_memory_gi_b: float | None = Field(
        None, alias="minMemoryGiB", gt=0, description="Minimum memory per device in GiB of the pool or host it gets"
    )
    sites: tuple[str, ...] = Field((), description="Names of the only sites it may run at; empty: any site")
    images: dict[Vendor, str] = Field(
        default_factory=dict,
        description="Image per vendor (pinned by digest, for air-gapped sites) when the service "
        "may land on several vendors; wins over `image`",
    )

    @field_validator("jurisdictions")
    @classmethod
    def _countries(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(check_country(c) for c in v)


class FleetServiceSpec(InferenceServiceSpec):
    """An InferenceService without a site: the planner picks the site, pool (or metal host) for it."""

    placement: PlacementSpec = Field(PlacementSpec(), description="Constraints on where the service may be placed")

    @model_validator(mode="after")
    def _vendors_run(self) -> FleetServiceSpec:
        for v in self.placement.vendors:
            runtimes.check_runtime_vendor(self.runtime, v, self.accelerator.allow_vllm_on_cpu)
        return self

    @property
    def candidate_vendors(self) -> tuple[str, ...]:
        return self.placement.vendors or (self.accelerator.vendor,)

    def on(self, vendor: str, product: str | None, hosts: tuple[str, ...] = ()) -> InferenceServiceSpec:
        """The site-level service this becomes once placed on a pool of `vendor` (or metal `hosts`)."""
        data = self.model_dump(by_alias=True, exclude={"placement"}, exclude_none=True)
        acc = dict(data.get("accelerator") or {})
        acc["vendor"] = vendor
        if product and not self.accelerator.product:
            acc["product"] = product
        if self.placement.min_memory_gi_b and not self.accelerator.min_memory_gi_b:
            acc["minMemoryGiB"] = self.placement.min_memory_gi_b
        data["accelerator"] = acc
        if vendor in self.placement.images:
            data["image"] = self.placement.images[vendor]
        if hosts:
            data["hosts"] = list(hosts)
        return InferenceServiceSpec.model_validate(data)


class FleetSpec(SpecModel):
    """The fleet: its sites, the models fleet services use, the services to place, the residency table."""

    sites: tuple[SiteSpec, ...] = Field(min_length=1, description="Every site of the fleet (its llmkube:site)")
    models: tuple[ModelSpec, ...] = Field((), description="Models fleet-level services refer to by name")
    services: tuple[FleetServiceSpec, ...] = Field(
        (), description="Services placed on sites by the planner (residency, air gap, fit, capacity, cost)"
    )
    allowed_jurisdictions: dict[str, tuple[str, ...]] | None = Field(
        None,
        description="Per data class, ISO codes where it may be processed ('*' = anywhere); unset: the "
        "data-residency rule's defaults (confidential and restricted in the EU/EEA only)",
    )

    @field_validator("allowed_jurisdictions")
    @classmethod
    def _classes(cls, v):
        if v is None:
            return v
        unknown = sorted(set(v) - set(CLASSIFICATION_ORDER))
        if unknown:
            raise ValueError(f"unknown data class(es) {', '.join(unknown)}; use {', '.join(CLASSIFICATION_ORDER)}")
        return {k: tuple(c if c == "*" else check_country(c) for c in codes) for k, codes in v.items()}

    @model_validator(mode="after")
    def _references(self) -> FleetSpec:
        problems = []
        names = {s.name for s in self.sites}
        for dup in duplicates(s.name for s in self.sites):
            problems.append(f"sites: duplicate site name {dup!r}")
        for dup in duplicates(m.name for m in self.models):
            problems.append(f"models: duplicate model name {dup!r}")
        for dup in duplicates(s.name for s in self.services):
            problems.append(f"services: duplicate service name {dup!r}")
        models = {m.name for m in self.models}
        for i, m in enumerate(self.models):
            if not m.name:
                problems.append(f"models[{i}].name: required for fleet models")
        for i, svc in enumerate(self.services):
            if isinstance(svc.model, str) and svc.model not in models:
                problems.append(
                    f"services[{i}].model: unknown model {svc.model!r} (fleet models: "
                    f"{', '.join(sorted(n for n in models if n)) or 'none declared'})"
                )
            for s in svc.placement.sites:
                if s not in names:
                    problems.append(
                        f"services[{i}].placement.sites: unknown site {s!r} (sites: {', '.join(sorted(names))})"
                    )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def site(self, name: str) -> SiteSpec:
        for s in self.sites:
            if s.name == name:
                return s
        raise SpecError(
            [
                (
                    "llmkube:fleetSite",
                    f"site {name!r} is not in the fleet (sites: {', '.join(s.name for s in self.sites)})",
                )
            ]
        )

    def model_for(self, svc: FleetServiceSpec) -> ModelSpec:
        if isinstance(svc.model, ModelSpec):
            return svc.model
        return next(m for m in self.models if m.name == svc.model)


def load_fleet(raw) -> FleetSpec:
    """Validate a fleet definition; SpecError with field paths (under `fleet.`)."""
    if not isinstance(raw, dict):
        raise SpecError([("fleet", "must be a mapping with sites, models and services")])
    try:
        return FleetSpec.model_validate(raw)
    except ValidationError as exc:
        raise from_validation_error(exc, "fleet") from None
