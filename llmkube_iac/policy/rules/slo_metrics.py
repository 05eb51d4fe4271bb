"""slo-metrics: a service's objectives are measured by series its runtime really exports.

Pyrra evaluates whatever PromQL it is given: an objective over a series that never exists shows
100% and never alerts. The runtime table (`Runtime.metrics`) says which series each runtime exports;
a service that asks for an objective (`slo`) its runtime cannot measure is refused here, where the
planner would otherwise leave it out silently."""

from __future__ import annotations

from ...hardware import vendor
from ...runtimes import runtime
from ..base import Rule, Violation
from ..view import StackView


def check_slo_metrics(view: StackView, cfg: dict):
    for site in view.sites.values():
        for svc in site.services:
            slo, spec = svc.spec.slo, svc.spec
            if slo is None or not slo.enabled:
                continue
            if not vendor(spec.accelerator.vendor).schedulable:
                yield Violation(
                    f"service {spec.name} asks for an SLO but runs on {spec.accelerator.vendor} hosts, "
                    "which Prometheus does not scrape per request",
                    svc.res.urn,
                )
                continue
            m = runtime(spec.runtime).metrics
            if not m.availability:
                yield Violation(
                    f"service {spec.name} asks for an availability SLO but runtime {spec.runtime} exports "
                    "no request counter with failed requests",
                    svc.res.urn,
                )
            if slo.latency is not None and not m.latency:
                yield Violation(
                    f"service {spec.name} asks for a latency SLO but runtime {spec.runtime} exports no "
                    "request latency histogram",
                    svc.res.urn,
                )


RULE = Rule(
    "slo-metrics",
    "A service's SLOs are measured by series its runtime exports (the runtime table's metrics).",
    "mandatory",
    "Remove the service's `slo` (or set slo.enabled false, or slo.latency null), or serve it with a runtime "
    "that exports request and latency metrics (e.g. vllm); put a Router in front to measure it there.",
    "stack",
    check_slo_metrics,
    {},
)
