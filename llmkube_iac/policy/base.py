"""What a rule is, what it reports, and the views rules read (pure: no pulumi, no pulumi_policy).

A rule is data plus one pure function. The CrossGuard pack (`crossguard/pack.py`) and the offline
evaluator (`crossguard/offline.py`) both wrap the same function, so a plan gets the same verdict
on either path.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable, Literal, Mapping, Sequence

ADVISORY, MANDATORY, DISABLED = "advisory", "mandatory", "disabled"
CHART_TYPES = ("kubernetes:helm.sh/v4:Chart", "kubernetes:helm.sh/v3:Chart", "kubernetes:helm.sh/v3:Release")
ADDON = "llmkube:index:AddOn"  # an add-on chart's declaration (components/addon.py)


def rendered_by_chart(urn: str) -> bool:
    """Scope: the rules judge what this library authors. Under the engine a Helm chart's objects are
    registered as the chart's children, so the type chain of their URN names the chart
    (`...$kubernetes:helm.sh/v4:Chart$kubernetes:apps/v1:Deployment::...`); such third-party objects
    are judged through their add-on's declaration (chart reference, mirrored image values) instead."""
    parts = urn.split("::")
    if len(parts) < 4:
        return False
    return any(t in CHART_TYPES for t in parts[2].split("$")[:-1])
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
        t = self.type
        return t.startswith("kubernetes:") and not t.startswith("kubernetes:helm.sh") and "kind" in self.props

    @property
    def manifest(self) -> dict | None:
        return dict(self.props) if self.is_kubernetes_object else None

    @property
    def kind(self) -> str:
        return str(self.props.get("kind", "")) if self.is_kubernetes_object else ""

    @property
    def label_site(self) -> str | None:
        meta = self.props.get("metadata") or {}
        return (meta.get("labels") or {}).get("llmkube.dev/site") if isinstance(meta, Mapping) else None

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
StackCheck = Callable[["StackView", dict], Iterable[Violation]]  # noqa: F821 — view.StackView


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


def plain(value):
    """Deep-copy CrossGuard's Mapping/Sequence proxies into plain dicts and lists, turning integral
    floats back into ints (the wire has only floats), as the offline engine does."""
    kind = type(value)  # exact-type fast paths: ABC checks dominate on large plans
    if kind is str or kind is bool or kind is int or value is None:
        return value
    if kind is dict:
        return {str(k): plain(v) for k, v in value.items()}
    if kind is list:
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return [plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
