"""Add-on Helm charts as pseudo-manifests: values rewritten to the site's mirrors, one Node Feature
Discovery per site, and a Namespace for every chart (Helm v4 charts under Pulumi create none).

A chart is judged by what it declares, since its objects only exist once the provider renders
it: its reference, the image values it is given and the API groups it provides and needs. Those
facts travel in the pseudo-manifest's spec, the component records them, and policies and the
offline cluster model read them from there. Whatever table a chart comes from, these functions
only need its `OperatorChart` entry.
"""
from __future__ import annotations

import copy

from ..hardware import NFD_GROUP, ChartImage, OperatorChart
from ..spec import SiteSpec
from .apis import SYSTEM_NAMESPACES
from .images import rewrite_image
from .meta import discovery_labels, manifest, metadata, standard_labels

HELM_API = "llmkube.dev/v1"  # pseudo-manifest for a Helm release; the component registers a helm.v4.Chart
HELM_KIND = "HelmChart"


def _labels(site: SiteSpec, name: str, component: str) -> dict:
    return {**standard_labels(name, site.name, component), **discovery_labels(site=site.name)}


def is_chart(m: dict) -> bool:
    return m.get("apiVersion") == HELM_API


def mirrored_value(image: ChartImage, site: SiteSpec) -> str:
    """The value to give the chart: the default rewritten to the site's mirrors (unchanged without one)."""
    if not image.prefix:
        return rewrite_image(image.default, site.registry_mirrors)
    # a registry[/path] prefix: rewrite it as the prefix of a reference, then take the name back off
    return rewrite_image(f"{image.default}/_", site.registry_mirrors)[:-2]


def _set(values: dict, dotted: str, value) -> None:
    *parents, last = dotted.split(".")
    for key in parents:
        values = values.setdefault(key, {})
    values[last] = value


def helm_release(chart: OperatorChart, site: SiteSpec, bundled_nfd: bool = True) -> dict:
    """The pseudo-manifest of one add-on; an air-gapped site with a chart registry pulls it from there."""
    values = copy.deepcopy(chart.values)
    images = None
    if chart.images is not None:
        images = []
        for image in chart.images:
            value = mirrored_value(image, site)
            if value != image.default:
                _set(values, image.key, value)
            images.append({"key": image.key, "value": value, "prefix": image.prefix})
    provides = list(chart.provides)
    if chart.nfd_key and not bundled_nfd:  # another add-on of the site runs Node Feature Discovery
        _set(values, chart.nfd_key, False)
        provides = [g for g in provides if g != NFD_GROUP]
    spec: dict = {"chart": chart.chart, "version": chart.version, "repository": chart.repository,
                  "values": values, "images": images, "provides": provides, "requires": list(chart.requires),
                  "namespaceLabels": dict(chart.namespace_labels)}
    if site.operators.chart_registry:
        spec["chart"] = f"oci://{site.operators.chart_registry}/{chart.chart}"
        spec["repository"] = None
    return manifest(HELM_API, HELM_KIND, metadata(chart.name, chart.namespace, _labels(site, chart.name, "operator")),
                    spec=spec)


def site_charts(charts: list[OperatorChart], site: SiteSpec) -> list[dict]:
    """Every add-on of a site; Node Feature Discovery runs once (two copies would fight over its
    CRDs and node labels): the chart that needs no other chart's NFD keeps its own."""
    bundlers = [c for c in charts if c.nfd_key]
    keeper = next((c for c in bundlers if NFD_GROUP not in c.requires), bundlers[0] if bundlers else None)
    return [helm_release(c, site, bundled_nfd=c is keeper) for c in charts]


def chart_namespaces(manifests: list[dict], site: SiteSpec) -> list[dict]:
    """A Namespace for each chart's namespace that the manifests do not create already."""
    existing = {m["metadata"]["name"] for m in manifests if m["kind"] == "Namespace" and m["apiVersion"] == "v1"}
    wanted: dict[str, dict] = {}
    for m in manifests:
        ns = m["metadata"].get("namespace")
        if is_chart(m) and ns and ns not in existing and ns not in SYSTEM_NAMESPACES:
            wanted.setdefault(ns, {}).update(m["spec"].get("namespaceLabels") or {})
    return [manifest("v1", "Namespace", metadata(ns, None, {**_labels(site, ns, "operator-namespace"), **labels}))
            for ns, labels in sorted(wanted.items())]
