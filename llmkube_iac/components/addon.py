"""`AddOn`: one add-on Helm chart (a GPU operator, KEDA) wrapped so the engine records what it is.

Under the engine, pulumi-kubernetes registers a `helm.v4.Chart` without its input properties and
its rendered objects as the chart's children, so a policy cannot read the chart reference from
the chart itself. This component records the declaration — chart reference, release, namespace,
the image values it is given, the API groups it provides and needs — as its own inputs and
outputs, which both the real engine and the offline renderer record; policies judge the add-on
by that declaration and leave the chart's third-party objects alone.
"""
from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from ..plan.objects import ADDON_TYPE


def declaration(manifest: dict, site: str) -> dict:
    """The recorded facts of one chart pseudo-manifest (see plan/charts.py)."""
    spec = manifest["spec"]
    return {"site": site, "release": manifest["metadata"]["name"], "namespace": manifest["metadata"].get("namespace"),
            "chart": spec["chart"], "version": spec["version"], "repository": spec.get("repository"),
            "images": spec.get("images"), "provides": list(spec.get("provides") or ()),
            "requires": list(spec.get("requires") or ())}


class AddOn(pulumi.ComponentResource):
    """Registers the helm.v4.Chart as its child; `release` is the Helm release name (the chart's own name)."""

    def __init__(self, name: str, manifest: dict, site: str, chart_name: str,
                 opts: pulumi.ResourceOptions | None = None):
        facts = declaration(manifest, site)
        super().__init__(ADDON_TYPE, name, facts, opts)
        spec = manifest["spec"]
        repo = k8s.helm.v4.RepositoryOptsArgs(repo=spec["repository"]) if spec.get("repository") else None
        self.chart = k8s.helm.v4.Chart(
            chart_name, name=facts["release"], chart=spec["chart"], version=spec["version"], repository_opts=repo,
            namespace=facts["namespace"], values=spec.get("values") or None,
            opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs(facts)
