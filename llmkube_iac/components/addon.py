"""`AddOn`: one add-on Helm chart (a GPU operator, KEDA, cert-manager) wrapped so the engine records what it is.

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
    facts = {
        "site": site,
        "release": manifest["metadata"]["name"],
        "namespace": manifest["metadata"].get("namespace"),
        "chart": spec["chart"],
        "version": spec["version"],
        "repository": spec.get("repository"),
        "images": spec.get("images"),
        "provides": list(spec.get("provides") or ()),
        "requires": list(spec.get("requires") or ()),
    }
    if spec.get("schemaHosts"):  # only charts that have them: every other declaration stays as it was
        facts["schemaHosts"] = list(spec["schemaHosts"])
    return facts


def _cert_manager(name: str, facts: dict, spec: dict, opts: pulumi.ResourceOptions) -> pulumi.Resource:
    """cert-manager through pulumi-kubernetes-cert-manager: a provider-side component (plugin
    kubernetes-cert-manager) wrapping the chart; its images are typed inputs, the rest helmOptions."""
    import pulumi_kubernetes_cert_manager as certmanager

    values = dict(spec.get("values") or {})
    typed = {k: values.pop(k) for k in ("image", "webhook", "cainjector", "startupapicheck") if k in values}
    values.pop("crds", None)  # install_crds below
    repo = certmanager.RepositoryOptsArgs(repo=spec["repository"]) if spec.get("repository") else None
    helm = certmanager.ReleaseArgs(
        name=facts["release"],
        chart=spec["chart"],
        version=spec["version"],
        namespace=facts["namespace"],
        repository_opts=repo,
        values=values or None,
    )
    return certmanager.CertManager(name, install_crds=True, helm_options=helm, opts=opts, **typed)


class AddOn(pulumi.ComponentResource):
    """Registers the helm.v4.Chart as its child; `release` is the Helm release name (the chart's own name)."""

    def __init__(
        self, name: str, manifest: dict, site: str, chart_name: str, opts: pulumi.ResourceOptions | None = None
    ):
        facts = declaration(manifest, site)
        super().__init__(ADDON_TYPE, name, facts, opts)
        spec = manifest["spec"]
        if spec.get("registration") == "cert-manager":
            self.chart = _cert_manager(chart_name, facts, spec, pulumi.ResourceOptions(parent=self))
            self.register_outputs(facts)
            return
        repo = k8s.helm.v4.RepositoryOptsArgs(repo=spec["repository"]) if spec.get("repository") else None
        self.chart = k8s.helm.v4.Chart(
            chart_name,
            name=facts["release"],
            chart=spec["chart"],
            version=spec["version"],
            repository_opts=repo,
            namespace=facts["namespace"],
            values=spec.get("values") or None,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs(facts)
