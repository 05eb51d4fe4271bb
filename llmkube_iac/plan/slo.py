"""Service level objectives as Pyrra ServiceLevelObjectives (pyrra.dev/v1alpha1).

Why Pyrra: it turns one objective into the multi-window burn-rate alerts and recording rules, so
the alerts a team gets are the SLO's, not hand-tuned thresholds. Availability is a ratio of the
runtime's (or router's) failed to all finished requests, latency the share of its histogram under
a bucket bound. The series come from the runtime table (`Runtime.metrics`) and the router's
exporter constants: a runtime that exports neither gets no objective, and the `slo-metrics` rule
refuses one that was asked for.
"""

from __future__ import annotations

from ..addons import providers_of
from ..runtimes import RuntimeMetrics, runtime
from ..spec import InferenceServiceSpec, SiteSpec
from ..spec.fleet_ops import SloSpec
from ..spec.router import RouterSpec
from .errors import PlanError
from .meta import discovery_labels, manifest, metadata, standard_labels
from .router_config import ROUTER_ERRORS, ROUTER_LATENCY, ROUTER_LATENCY_BUCKETS, ROUTER_REQUESTS

SLO_API = "pyrra.dev/v1alpha1"


def pyrra_available(site: SiteSpec) -> bool:
    """Pyrra's CRD is there: the site installs it or its cluster already provides pyrra.dev."""
    return bool(providers_of(site, "pyrra.dev")) or "pyrra.dev" in set(getattr(site, "cluster_provides", None) or ())


def _bound(value: float) -> str:
    return f"{value:g}"


def _objective(
    site: SiteSpec, name: str, owner: str, component: str, target: float, window: str, description: str, indicator: dict
) -> dict:
    labels = {**standard_labels(name, owner, component), **discovery_labels(site=site.name)}
    return manifest(
        SLO_API,
        "ServiceLevelObjective",
        metadata(name, site.namespace, labels),
        spec={"description": description, "target": f"{target:g}", "window": window, "indicator": indicator},
    )


def objectives(
    site: SiteSpec,
    owner: str,
    component: str,
    slo: SloSpec,
    selector: str,
    requests: str | None,
    errors: str | None,
    histogram: str | None,
    buckets: tuple[float, ...],
    where: str,
) -> list[dict]:
    """The availability and latency objectives of one service or router (names: <owner>-availability/-latency)."""
    out = []
    if requests and errors:
        out.append(
            _objective(
                site,
                f"{owner}-availability",
                owner,
                component,
                slo.availability,
                slo.window,
                f"{slo.availability:g}% of {owner}'s requests do not fail over {slo.window}",
                {
                    "ratio": {
                        "errors": {"metric": f"{requests}{{{selector},{errors}}}"},
                        "total": {"metric": f"{requests}{{{selector}}}"},
                    }
                },
            )
        )
    if slo.latency is not None and histogram and buckets:
        threshold = slo.latency.threshold_seconds
        if not any(abs(threshold - b) < 1e-9 for b in buckets):
            raise PlanError(
                f"{where}.slo.latency.thresholdSeconds",
                f"{threshold:g} s is not a bucket bound of {histogram}; use one of "
                f"{', '.join(_bound(b) for b in buckets)}",
            )
        le = _bound(threshold)
        out.append(
            _objective(
                site,
                f"{owner}-latency",
                owner,
                component,
                slo.latency.target,
                slo.window,
                f"{slo.latency.target:g}% of {owner}'s requests finish within {le} s over {slo.window}",
                {
                    "latency": {
                        "success": {"metric": f'{histogram}_bucket{{{selector},le="{le}"}}'},
                        "total": {"metric": f"{histogram}_count{{{selector}}}"},
                    }
                },
            )
        )
    return out


def service_slos(site: SiteSpec, svc: InferenceServiceSpec, where: str) -> list[dict]:
    """A service's objectives: explicit `slo`, or the defaults where Pyrra is installed."""
    slo = svc.slo if svc.slo is not None else SloSpec()
    if not slo.enabled or not pyrra_available(site):
        if svc.slo is not None and slo.enabled:
            raise PlanError(
                f"{where}.slo",
                "objectives need Pyrra: set site.addons.pyrra (or list pyrra.dev in "
                "site.clusterProvides), or set slo.enabled false",
            )
        return []
    m: RuntimeMetrics = runtime(svc.runtime).metrics
    selector = f'namespace="{site.namespace}",service="{svc.name}"'
    return objectives(
        site,
        svc.name,
        "slo",
        slo,
        selector,
        m.requests_total,
        m.errors_selector,
        m.latency_histogram,
        m.latency_buckets,
        where,
    )


def router_slos(site: SiteSpec, router: RouterSpec, where: str) -> list[dict]:
    slo = router.slo if router.slo is not None else SloSpec()
    if not slo.enabled or not pyrra_available(site):
        if router.slo is not None and slo.enabled:
            raise PlanError(
                f"{where}.slo",
                "objectives need Pyrra: set site.addons.pyrra (or list pyrra.dev in "
                "site.clusterProvides), or set slo.enabled false",
            )
        return []
    # both zones' PodMonitors (job = <namespace>/<zone Service>)
    selector = f'job=~"{site.namespace}/{router.name}(-external)?"'
    return objectives(
        site,
        router.name,
        "slo",
        slo,
        selector,
        ROUTER_REQUESTS,
        ROUTER_ERRORS,
        ROUTER_LATENCY,
        tuple(float(b) for b in ROUTER_LATENCY_BUCKETS),
        where,
    )
