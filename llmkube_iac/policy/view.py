"""The whole plan as stack rules see it: sites, their services, models, routers and objects.

Specs travel as component props (`llmkube:index:Site` -> {"spec"}, Model/InferenceService/Router
-> {"spec", "site"}); they are re-validated with the same pydantic models the program used, so a
rule never reads a half-understood dict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from ..plan.images import images_of, pod_spec_of
from ..plan.objects import (
    ADDON_TYPE,
    CHART_TYPES,
    COMPONENT_PREFIX,
    MODEL_TYPE,
    ROUTER_TYPE,
    SERVICE_TYPE,
    SITE_TYPE,
    rendered_by_chart,
    site_of,
)
from ..spec import InferenceServiceSpec, ModelSpec, SiteSpec
from .base import Res

if TYPE_CHECKING:
    from ..spec.router import RouterSpec

SITE, MODEL, SERVICE, ROUTER = SITE_TYPE, MODEL_TYPE, SERVICE_TYPE, ROUTER_TYPE


@dataclass
class ServiceEntry:
    res: Res
    spec: InferenceServiceSpec

    @property
    def model(self) -> ModelSpec | None:
        return self.spec.model if isinstance(self.spec.model, ModelSpec) else None


@dataclass
class ModelEntry:
    res: Res
    spec: ModelSpec
    facts: dict | None = None
    revision: dict | None = None  # how an hf:// source was pinned at plan time (modelinfo.revisions)


@dataclass
class SiteView:
    """One site's spec and everything the plan puts there."""

    res: Res
    spec: SiteSpec
    services: list[ServiceEntry] = field(default_factory=list)
    models: list[ModelEntry] = field(default_factory=list)
    routers: list[tuple[Res, RouterSpec]] = field(default_factory=list)
    objects: list[Res] = field(default_factory=list)  # Kubernetes objects this library authored
    addons: list[Res] = field(default_factory=list)  # add-on declarations (chart reference, images, API groups)
    charts: list[Res] = field(default_factory=list)  # Helm charts not declared as an add-on
    teams: list = field(default_factory=list)  # TeamQuota: the stack's teams (Site prop `teams`)

    def workloads(self) -> list[tuple[Res, dict]]:
        """(resource, pod spec) of every object that runs pods."""
        out = []
        for r in self.objects:
            spec = pod_spec_of(r.props)
            if spec is not None:
                out.append((r, spec))
        return out

    def images(self) -> list[tuple[Res, str]]:
        return [(r, img) for r, spec in self.workloads() for img in images_of(spec)]

    def model_for(self, svc: ServiceEntry) -> tuple[ModelSpec, dict | None]:
        """The service's model spec (inline in its props) and the header facts of its Model, if any."""
        spec = svc.model
        name = svc.spec.model_name
        for m in self.models:
            if (name and m.spec.name == name) or (spec is not None and m.spec.source == spec.source):
                return (spec or m.spec), m.facts
        return spec, None  # type: ignore[return-value]


class StackView:
    """Groups resources by site (label, component prop, parent chain, else the only site)."""

    def __init__(self, resources: list[Res]):
        self.resources = resources
        self.by_urn = {r.urn: r for r in resources}
        self.errors: list[tuple[Res, str]] = []  # specs that no longer validate: reported, not crashed on

    def site_of(self, r: Res) -> str | None:
        return site_of(r, self.by_urn.get)

    @cached_property
    def sites(self) -> dict[str, SiteView]:
        sites: dict[str, SiteView] = {}
        for r in self.resources:
            if r.type == SITE and isinstance(r.props.get("spec"), dict):
                spec = self._validate(r, SiteSpec, r.props["spec"])
                if spec is not None:
                    sites[spec.name] = SiteView(r, spec, teams=self._teams(r))
        only = next(iter(sites.values())) if len(sites) == 1 else None
        for r in self.resources:
            if rendered_by_chart(r.urn):  # third-party objects: the add-on's declaration stands for them
                continue
            name = self.site_of(r)
            view = sites.get(name) if name else only
            if view is None:
                continue
            if r.type == SERVICE and isinstance(r.props.get("spec"), dict):
                spec = self._validate(r, InferenceServiceSpec, r.props["spec"])
                if spec is not None:
                    view.services.append(ServiceEntry(r, spec))
            elif r.type == MODEL and isinstance(r.props.get("spec"), dict):
                spec = self._validate(r, ModelSpec, r.props["spec"])
                if spec is not None:
                    facts, rev = r.props.get("facts"), r.props.get("revision")
                    view.models.append(
                        ModelEntry(
                            r, spec, facts if isinstance(facts, dict) else None, rev if isinstance(rev, dict) else None
                        )
                    )
            elif r.type == ROUTER and isinstance(r.props.get("spec"), dict):
                from ..spec.router import RouterSpec

                spec = self._validate(r, RouterSpec, r.props["spec"])
                if spec is not None:
                    view.routers.append((r, spec))
            elif r.type == ADDON_TYPE:
                view.addons.append(r)
            elif r.type in CHART_TYPES:
                parent = self.by_urn.get(r.parent) if r.parent else None
                if parent is None or parent.type != ADDON_TYPE:
                    view.charts.append(r)
            elif r.is_kubernetes_object:
                view.objects.append(r)
        return sites

    def blind_spots(self) -> list[tuple[str, str | None]]:
        """Why a stack rule cannot judge this plan: fail closed instead of passing what it cannot see.

        Under the real engine AnalyzeStack sees each resource's *outputs*; if the components do not
        export their `spec`, llmkube components are present but no Site spec is readable here."""
        sites = self.sites
        out: list[tuple[str, str | None]] = [(msg, r.urn) for r, msg in self.errors]
        if not sites and any(r.type.startswith(COMPONENT_PREFIX) for r in self.resources):
            out.append(
                (
                    "llmkube components are in the stack but no llmkube:index:Site `spec` is visible to the "
                    "policy (under `pulumi preview` stack policies read component outputs: the Site must export "
                    "its spec)",
                    None,
                )
            )
        return out

    def _teams(self, r: Res) -> list:
        from ..spec.fleet_ops import TeamQuota

        raw = r.props.get("teams")
        if not isinstance(raw, list):
            return []
        return [t for t in (self._validate(r, TeamQuota, d) for d in raw) if t is not None]

    def _validate(self, r: Res, model, data):
        try:
            return model.model_validate(data)
        except Exception as exc:  # noqa: BLE001 — a spec the program accepted but a rule cannot read
            self.errors.append((r, f"{r.describe()}: its spec does not validate: {exc}"))
            return None
