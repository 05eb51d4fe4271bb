"""Service level objectives as Pyrra ServiceLevelObjectives (pyrra.dev/v1alpha1).

Why Pyrra: it turns one objective into the multi-window burn-rate alerts and recording rules, so
the alerts a team gets are the SLO's, not hand-tuned thresholds. Availability is a ratio of the
runtime's (or router's) failed to finished requests (the failed ones a label selection of the
request counter, or a counter of their own), latency the share of its histogram under a bucket
bound, matched by the `le` label Prometheus stores. The series come from the runtime table
(`Runtime.metrics`) and the router's exporter constants: a runtime that exports neither gets no
objective, and the `slo-metrics` rule refuses one that was asked for.
"""

from __future__ import annotations

import math
from decimal import Decimal

from ..addons import providers_of
from ..runtimes import RuntimeMetrics, runtime
from ..spec import InferenceServiceSpec, SiteSpec
from ..spec.fleet_ops import SloSpec
from ..spec.router import RouterSpec
from .errors import PlanError
from .meta import discovery_labels, manifest, metadata, standard_labels
from .router_config import ROUTER_ERRORS, ROUTER_LATENCY, ROUTER_LATENCY_BUCKETS, ROUTER_REQUESTS

# the router's exporter, in the runtimes' shape
ROUTER_METRICS = RuntimeMetrics(
    requests_total=ROUTER_REQUESTS,
    errors_selector=ROUTER_ERRORS,
    latency_histogram=ROUTER_LATENCY,
    latency_buckets=tuple(float(b) for b in ROUTER_LATENCY_BUCKETS),
)

SLO_API = "pyrra.dev/v1alpha1"
MATCH = 1e-5  # relative: a bound written to 6 significant digits (as the error lists them) is that bound


def pyrra_available(site: SiteSpec) -> bool:
    """Pyrra's CRD is there: the site installs it or its cluster already provides pyrra.dev."""
    return bool(providers_of(site, "pyrra.dev")) or "pyrra.dev" in set(getattr(site, "cluster_provides", None) or ())


def _bound(value: float) -> str:
    return f"{value:g}"


def le_label(value: float) -> str:
    """A bucket bound as Prometheus stores its `le` label: since Prometheus 3 every scraped `le` is
    rewritten to the OpenMetrics float form (Go's shortest 'g' form, ".0" added to a whole number:
    "10.0", "0.3", "1e+06"), whatever the exporter wrote, so `le="10"` matches nothing."""
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"bucket bound {value!r} is not a finite number")
    if value == 0:
        return "0.0"
    sign, digits, exponent = Decimal(repr(float(value))).normalize().as_tuple()
    assert isinstance(exponent, int)  # finite: checked above
    text = "".join(map(str, digits))
    point = len(text) + exponent  # where the decimal point falls in `text`
    exp10 = point - 1
    if exp10 < -4 or exp10 >= 6:  # Go's shortest 'g' switches to an exponent outside 1e-4 .. 1e6
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        out = f"{mantissa}e{'-' if exp10 < 0 else '+'}{abs(exp10):02d}"
    elif point <= 0:
        out = "0." + "0" * -point + text
    elif point >= len(text):
        out = text + "0" * (point - len(text)) + ".0"
    else:
        out = text[:point] + "." + text[point:]
    return ("-" if sign else "") + out


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


def _threshold_bound(slo: SloSpec, metrics: RuntimeMetrics, where: str) -> float:
    """The bucket bound the latency objective counts under. An explicit thresholdSeconds must be one;
    the default (unset) is the smallest bound at or above it, so a histogram without a 10 s bound
    (TGI's) still gets the default objective."""
    assert slo.latency is not None
    threshold, buckets = slo.latency.threshold_seconds, metrics.latency_buckets
    for b in buckets:
        if math.isclose(threshold, b, rel_tol=MATCH):
            return b
    if "threshold_seconds" not in slo.latency.model_fields_set:
        return next((b for b in buckets if b >= threshold), buckets[-1])
    raise PlanError(
        f"{where}.slo.latency.thresholdSeconds",
        f"{threshold:g} s is not a bucket bound of {metrics.latency_histogram}; use one of "
        f"{', '.join(_bound(b) for b in buckets)}",
    )


def objectives(
    site: SiteSpec, owner: str, component: str, slo: SloSpec, selector: str, metrics: RuntimeMetrics, where: str
) -> list[dict]:
    """The availability and latency objectives of one service or router (names: <owner>-availability/-latency)."""
    out = []
    m = metrics
    if m.availability:
        assert m.requests_total is not None
        errors_of = m.errors_total or m.requests_total
        errors_selector = f"{selector},{m.errors_selector}" if m.errors_selector else selector
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
                        "errors": {"metric": f"{errors_of}{{{errors_selector}}}"},
                        "total": {"metric": f"{m.requests_total}{{{selector}}}"},
                    }
                },
            )
        )
    if slo.latency is not None and m.latency:
        bound = _threshold_bound(slo, m, where)
        out.append(
            _objective(
                site,
                f"{owner}-latency",
                owner,
                component,
                slo.latency.target,
                slo.window,
                f"{slo.latency.target:g}% of {owner}'s requests finish within {_bound(bound)} s over {slo.window}",
                {
                    "latency": {
                        "success": {"metric": f'{m.latency_histogram}_bucket{{{selector},le="{le_label(bound)}"}}'},
                        "total": {"metric": f"{m.latency_histogram}_count{{{selector}}}"},
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
    selector = f'namespace="{site.namespace}",service="{svc.name}"'
    return objectives(site, svc.name, "slo", slo, selector, runtime(svc.runtime).metrics, where)


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
    return objectives(site, router.name, "slo", slo, selector, ROUTER_METRICS, where)
