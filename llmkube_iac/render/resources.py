"""What the offline engine records of each registered resource (the render <-> policy contract)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..plan.objects import is_kubernetes_object


@dataclass
class RenderedResource:
    """One RegisterResource call seen by the mock monitor, with numbers normalised.

    `props` are the resource's inputs in wire form: for a Kubernetes object, the manifest itself
    (apiVersion, kind, metadata, spec, ...); for an llmkube component, its spec props; for a Helm
    chart, the chart arguments (chart, version, repositoryOpts, values).
    """

    urn: str
    type: str  # Pulumi type token, e.g. "kubernetes:apps/v1:Deployment", "llmkube:index:Site"
    name: str  # logical name
    props: dict
    parent: str | None = None  # parent URN
    provider: str | None = None  # provider reference ("urn::id"), if any
    custom: bool = True
    remote: bool = False  # provider-side component (Helm chart v4): not expandable offline
    dependencies: list[str] = field(default_factory=list)  # URNs it waits for (dependsOn and inputs)
    protect: bool = False  # `protect`: the engine refuses to delete or replace it
    site: str | None = None  # which site's directory the renderer writes it to
    policy_results: list = field(default_factory=list)
    # props are plain JSON values already (the recording monitor built them with `plain`): the policy
    # evaluator reads them as they are instead of copying every resource's props again
    plain_props: bool = field(default=False, compare=False, repr=False)

    @property
    def is_kubernetes_object(self) -> bool:
        return is_kubernetes_object(self.type, self.props)

    @property
    def manifest(self) -> dict | None:
        return self.props if self.is_kubernetes_object else None
