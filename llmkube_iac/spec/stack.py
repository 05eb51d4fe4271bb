"""StackConfig: everything one site's stack declares (`llmkube:site`, `llmkube:models`, ...).

Cross-references (a service naming a model) are resolved here, so every later layer sees
complete specs and a bad reference is a field error, not a KeyError.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationError, ValidationInfo, model_validator

from .base import SpecModel, duplicates
from .errors import SpecError, from_validation_error
from .federation import PeerBackend
from .fleet_ops import TeamQuota
from .model import ModelSpec
from .router import LocalBackend, RouterSpec
from .service import InferenceServiceSpec
from .site import SiteSpec


class StackConfig(SpecModel):
    """Everything one site's stack declares: the `llmkube:*` keys of its Pulumi.<stack>.yaml."""

    site: SiteSpec = Field(description="The site: where it is, how to reach it, what hardware it has (llmkube:site)")
    models: tuple[ModelSpec, ...] = Field((), description="Models services refer to by name (llmkube:models)")
    services: tuple[InferenceServiceSpec, ...] = Field((), description="Inference services (llmkube:services)")
    routers: tuple[RouterSpec, ...] = Field(
        (), description="Governed OpenAI endpoints in front of the services (llmkube:routers)"
    )
    teams: tuple[TeamQuota, ...] = Field(
        (), description="Teams with device quotas: ResourceQuotas, Kueue queues; services name theirs (llmkube:teams)"
    )

    @model_validator(mode="after")
    def _references(self, info: ValidationInfo) -> StackConfig:
        if not (info.context or {}).get("defer_references"):
            problems = self.reference_problems()
            if problems:
                raise ValueError("; ".join(f"{path}: {msg}" for path, msg in problems))
        return self

    def reference_problems(self) -> list[tuple[str, str]]:
        """Names that must be unique or must exist, as (field path, message) pairs."""
        problems: list[tuple[str, str]] = []
        names = [m.name for m in self.models]
        name_set = set(names)
        for i, m in enumerate(self.models):
            if not m.name:
                problems.append((f"models[{i}].name", "required for models declared at stack level"))
        for dup in duplicates(names):
            problems.append(("models", f"duplicate model name {dup!r}"))
        for dup in duplicates(s.name for s in self.services):
            problems.append(("services", f"duplicate service name {dup!r}"))
        for i, svc in enumerate(self.services):
            if isinstance(svc.model, str) and svc.model not in name_set:
                known = ", ".join(n for n in names if n) or "none declared"
                problems.append((f"services[{i}].model", f"unknown model {svc.model!r} (declared models: {known})"))
        problems += self._inline_name_clashes()
        problems += self._context_problems()
        svc_names = {s.name for s in self.services}
        team_names = [t.name for t in self.teams]
        for dup in duplicates(team_names):
            problems.append(("teams", f"duplicate team name {dup!r}"))
        problems += self._team_problems()
        for i, svc in enumerate(self.services):
            if svc.team is not None and svc.team not in team_names:
                known = ", ".join(team_names) or "none declared"
                problems.append((f"services[{i}].team", f"unknown team {svc.team!r} (declared teams: {known})"))
        for dup in duplicates(r.name for r in self.routers):
            problems.append(("routers", f"duplicate router name {dup!r}"))
        for i, router in enumerate(self.routers):
            for j, b in enumerate(router.backends):
                if isinstance(b, PeerBackend):
                    problems += _peer_problems(f"routers[{i}].backends[{j}]", b, self.site.name)
                if isinstance(b, LocalBackend) and b.service not in svc_names:
                    known = ", ".join(sorted(svc_names)) or "none declared"
                    problems.append(
                        (
                            f"routers[{i}].backends[{j}].service",
                            f"unknown service {b.service!r} (declared services: {known})",
                        )
                    )
        return problems

    def _context_problems(self) -> list[tuple[str, str]]:
        problems = []
        by_name = self.models_by_name
        for i, svc in enumerate(self.services):
            model = svc.model if isinstance(svc.model, ModelSpec) else by_name.get(svc.model)
            if model and svc.context_size and model.context_window and svc.context_size > model.context_window:
                problems.append(
                    (
                        f"services[{i}].contextSize",
                        f"{svc.context_size} tokens exceed the model's contextWindow "
                        f"({model.context_window}); the model cannot attend that far: lower contextSize",
                    )
                )
        return problems

    def _team_problems(self) -> list[tuple[str, str]]:
        """Each team device quota names a vendor with a device resource and, if any, a pool of that vendor."""
        from ..hardware import VENDORS

        problems = []
        pools = {p.name: p for p in self.site.accelerators}
        for i, team in enumerate(self.teams):
            for j, d in enumerate(team.devices):
                where = f"teams[{i}].devices[{j}]"
                profile = VENDORS.get(d.vendor)
                if profile is None or profile.resource_key is None or not profile.schedulable:
                    valid = ", ".join(n for n, v in VENDORS.items() if v.resource_key and v.schedulable)
                    problems.append(
                        (f"{where}.vendor", f"{d.vendor!r} has no device resource to quota; valid: {valid}")
                    )
                elif d.pool is not None and d.pool not in pools:
                    problems.append(
                        (
                            f"{where}.pool",
                            f"unknown pool {d.pool!r} (site pools: {', '.join(pools) or 'none declared'})",
                        )
                    )
                elif d.pool is not None and pools[d.pool].vendor != d.vendor:
                    problems.append((f"{where}.pool", f"pool {d.pool} is {pools[d.pool].vendor}, not {d.vendor}"))
        return problems

    def _inline_name_clashes(self) -> list[tuple[str, str]]:
        """An inline model's object name (InferenceServiceSpec.model_name) may not name a different model:
        the stack would plan one cache for both and serve one service the other's weights."""
        first: dict[str, tuple[str, ModelSpec]] = {}
        for i, m in enumerate(self.models):
            if m.name:
                first.setdefault(m.name, (f"models[{i}]", m))
        out = []
        for i, svc in enumerate(self.services):
            if not isinstance(svc.model, ModelSpec):
                continue
            name, path = svc.model_name, f"services[{i}].model"
            where, other = first.setdefault(name, (path, svc.model))
            if other.model_copy(update={"name": None}) != svc.model.model_copy(update={"name": None}):
                out.append(
                    (
                        path,
                        f"model name {name!r} already names a different model ({where}): give this "
                        f"inline model its own name, or reference {name!r} by name",
                    )
                )
        return out

    def model_for(self, service: InferenceServiceSpec) -> ModelSpec:
        """The service's model, inline or by name (references were checked at validation)."""
        if isinstance(service.model, ModelSpec):
            return service.model
        return self.models_by_name[service.model]

    @property
    def models_by_name(self) -> dict[str, ModelSpec]:
        """Stack-level models by name. Built on each call, never cached: a cached copy would travel with
        `model_copy` (the plan pins sources that way) and hand out the unpinned models."""
        return {m.name: m for m in self.models if m.name}


def _peer_problems(path: str, backend: PeerBackend, site: str) -> list[tuple[str, str]]:
    """A cross-site backend names another site, whose jurisdiction is known (the fleet fills it in)."""
    out = []
    if backend.site == site:
        out.append((f"{path}.site", f"{site} is this router's own site: route to its services with `service`"))
    if backend.jurisdiction is None:
        out.append(
            (
                f"{path}.jurisdiction",
                f"the jurisdiction of site {backend.site} is unknown: make this stack a fleet stack (llmkube:fleet "
                "names every site) or declare the peer site's jurisdiction",
            )
        )
    return out


def load_stack_config(raw: dict[str, Any]) -> StackConfig:
    """Validate raw config (keys without the `llmkube:` prefix); raise SpecError with field paths."""
    try:
        config = StackConfig.model_validate(raw, context={"defer_references": True})
    except ValidationError as exc:
        raise from_validation_error(exc) from None
    problems = config.reference_problems()
    if problems:
        raise SpecError(problems)
    return config
