"""Add-on Helm charts as pseudo-manifests: their image values, one Node Feature Discovery per site,
and a Namespace for every chart (Helm v4 charts under Pulumi create none).

A chart is judged by what it declares, since its objects only exist once the provider renders
it: its reference, the image values it is given and the API groups it provides and needs. Those
facts travel in the pseudo-manifest's spec (`images` lists every image key of the pinned chart
with its value, which apply_mirrors points at the site's mirrors like any other image), the
component records them, and policies and the offline cluster model read them from there.
"""

from __future__ import annotations

import copy

from ..addons import NFD_GROUP, AddOn
from ..spec import SiteSpec
from .apis import SYSTEM_NAMESPACES
from .meta import manifest, metadata, object_labels

HELM_API = "llmkube.dev/v1"  # pseudo-manifest for a Helm release; the component registers a helm.v4.Chart
HELM_KIND = "HelmChart"


def _labels(site: SiteSpec, name: str, component: str) -> dict:
    return object_labels(name, site.name, component, site=site.name)


def is_chart(m: dict) -> bool:
    return m.get("apiVersion") == HELM_API


def _set(values: dict, dotted: str, value) -> None:
    *parents, last = dotted.split(".")
    for key in parents:
        values = values.setdefault(key, {})
    values[last] = value


def _merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for k, v in extra.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def helm_release(chart: AddOn, site: SiteSpec, bundled_nfd: bool = True) -> dict:
    """The pseudo-manifest of one add-on; an air-gapped site with a chart registry pulls it from there."""
    values = _merge(copy.deepcopy(chart.values), chart.site_values(site) if chart.site_values else {})
    images = (
        None if chart.images is None else [{"key": i.key, "value": i.default, "prefix": i.prefix} for i in chart.images]
    )
    provides = list(chart.provides)
    if chart.nfd_key and not bundled_nfd:  # another add-on of the site runs Node Feature Discovery
        _set(values, chart.nfd_key, False)
        provides = [g for g in provides if g != NFD_GROUP]
    spec: dict = {
        "chart": chart.chart,
        "version": chart.version,
        "repository": chart.repository,
        "values": values,
        "images": images,
        "provides": provides,
        "requires": list(chart.requires),
        "namespaceLabels": dict(chart.namespace_labels),
    }
    if chart.registration != "helm":
        spec["registration"] = chart.registration
    if chart.schema_hosts:
        spec["schemaHosts"] = list(chart.schema_hosts)
    if chart.repository.startswith("oci://"):  # an OCI chart is one reference, not a repository
        spec["chart"], spec["repository"] = f"{chart.repository.rstrip('/')}/{chart.chart}", None
    if site.operators.chart_registry:
        spec["chart"] = f"oci://{site.operators.chart_registry}/{chart.chart}"
        spec["repository"] = None
    return manifest(
        HELM_API, HELM_KIND, metadata(chart.name, chart.namespace, _labels(site, chart.name, "operator")), spec=spec
    )


def site_charts(charts: list[AddOn], site: SiteSpec) -> list[dict]:
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
    return [
        manifest("v1", "Namespace", metadata(ns, None, {**_labels(site, ns, "operator-namespace"), **labels}))
        for ns, labels in sorted(wanted.items())
    ]
