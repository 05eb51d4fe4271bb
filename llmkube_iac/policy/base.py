"""What a rule is, what it reports, and the views rules read (pure: no pulumi, no pulumi_policy).

A rule is data plus one pure function. The CrossGuard pack (`crossguard/pack.py`) and the offline
evaluator (`crossguard/offline.py`) both wrap the same function, so a plan gets the same verdict
on either path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ..plan.objects import is_kubernetes_object, plain, rendered_by_chart  # noqa: F401 — re-exported for the pack

if TYPE_CHECKING:
    from .view import StackView

ADVISORY, MANDATORY, DISABLED = "advisory", "mandatory", "disabled"
LEVELS = (ADVISORY, MANDATORY, "remediate", DISABLED)  # pulumi_policy.EnforcementLevel values


@dataclass(frozen=True)
class Res:
    """One resource as a rule sees it: the same fields under CrossGuard and offline."""

    urn: str
    type: str
    name: str
    props: Mapping[str, Any]
    parent: str | None = None

    @property
    def is_kubernetes_object(self) -> bool:
        return is_kubernetes_object(self.type, self.props)

    @property
    def manifest(self) -> dict | None:
        return dict(self.props) if self.is_kubernetes_object else None

    @property
    def kind(self) -> str:
        return str(self.props.get("kind", "")) if self.is_kubernetes_object else ""

    def describe(self) -> str:
        """`Deployment llmkube/chat` for Kubernetes objects, else the logical name."""
        if self.is_kubernetes_object:
            meta = self.props.get("metadata") or {}
            ns = meta.get("namespace")
            return f"{self.kind} {ns + '/' if ns else ''}{meta.get('name', self.name)}"
        return f"{self.type.rsplit(':', 1)[-1]} {self.name}"


@dataclass(frozen=True)
class Violation:
    """A stack rule's finding; urn None means the stack as a whole."""

    message: str
    urn: str | None = None


ResourceCheck = Callable[[Res, dict], Iterable[str]]
StackCheck = Callable[["StackView", dict], Iterable[Violation]]


@dataclass(frozen=True)
class Rule:
    """Name, why, default level, config schema (JSON-schema properties with defaults), the fix."""

    name: str
    description: str
    level: str
    remediation: str
    scope: Literal["resource", "stack"]
    check: Callable
    config: dict = field(default_factory=dict)  # property -> JSON schema (with "default")

    def defaults(self) -> dict:
        return {k: v["default"] for k, v in self.config.items() if "default" in v}

    def settings(self, user: Mapping[str, Any] | None) -> dict:
        """Defaults overlaid with the user's config for this rule (enforcementLevel stripped)."""
        out = self.defaults()
        for k, v in (user or {}).items():
            if k != "enforcementLevel":
                out[k] = v
        return out


@dataclass
class PolicyResult:
    """One violation as reported to the terminal and written to plan.json."""

    rule: str
    level: str
    message: str
    remediation: str
    urn: str | None = None
    resource_type: str | None = None
    resource_name: str | None = None

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items()}
