"""airgap-charts: in an air-gapped site Helm charts come only from internal OCI registries or local
paths; a classic Helm repository or an outside registry would be fetched from the internet, and so
would the outside schema definitions a chart's values schema names (the add-on's `schemaHosts`).

A chart is judged by its add-on's declaration (components/addon.py), which both engines record:
under `pulumi preview` a helm.v4.Chart carries no input properties, so a chart that was not
declared as an add-on has no reference this rule could trust and is refused."""

from __future__ import annotations

from ..airgap_sites import air_gapped_sites, host_of
from ..base import Rule, Violation
from ..view import StackView

_LOCAL_CHART_PREFIXES = ("./", "../", "/", "file://")


def check_charts(view: StackView, cfg: dict):
    for site in air_gapped_sites(view):
        hosts = {host_of(m.mirror) for m in site.spec.registry_mirrors} | {
            host_of(r) for r in cfg.get("allowedRegistries", [])
        }
        if site.spec.operators.chart_registry:
            hosts.add(host_of(site.spec.operators.chart_registry))
        for res in site.charts:
            yield Violation(
                f"chart {res.name} (site {site.spec.name}, air-gapped) is not declared as an llmkube "
                "add-on: its chart reference is not recorded under the engine, so where it comes from "
                "cannot be checked",
                res.urn,
            )
        for res in site.addons:
            name = f"add-on {res.props.get('release') or res.name}"
            schema_hosts = res.props.get("schemaHosts") or []
            if schema_hosts:
                yield Violation(
                    f"{name} (site {site.spec.name}, air-gapped): its chart's values schema loads definitions "
                    f"from {', '.join(map(str, schema_hosts))} whenever Helm validates its values, so it cannot "
                    "be rendered without reaching outside",
                    res.urn,
                )
            chart = str(res.props.get("chart") or "")
            repo = str(res.props.get("repository") or "")
            ref = f"{repo.rstrip('/')}/{chart}" if repo else chart
            if repo and not repo.startswith("oci://"):
                yield Violation(
                    f"{name} (site {site.spec.name}, air-gapped) comes from Helm repository "
                    f"{repo}: only internal OCI registries or local paths are allowed",
                    res.urn,
                )
            elif ref.startswith("oci://"):
                host = host_of(ref.removeprefix("oci://"))
                if host not in hosts:
                    yield Violation(
                        f"{name} (site {site.spec.name}, air-gapped) comes from {ref}; registry "
                        f"{host} is not internal ({', '.join(sorted(hosts)) or 'none declared'})",
                        res.urn,
                    )
            elif "://" in ref or not ref.startswith(_LOCAL_CHART_PREFIXES):
                yield Violation(
                    f"{name} (site {site.spec.name}, air-gapped) reference {ref or '(none)'} is "
                    "neither an internal oci:// chart nor a local path",
                    res.urn,
                )


RULE = Rule(
    "airgap-charts",
    "In an air-gapped site Helm charts come only from internal OCI registries or local paths.",
    "mandatory",
    "Push the chart to the internal registry and set site.operators.chartRegistry (charts become "
    "oci://<chartRegistry>/<chart>), or vendor the chart into the repository and use a local path; "
    "declare every chart as an llmkube add-on. An add-on whose values schema loads outside definitions: "
    "install it out of band (or leave its switch off at air-gapped sites).",
    "stack",
    check_charts,
    {"allowedRegistries": {"type": "array", "items": {"type": "string"}, "default": []}},
)
