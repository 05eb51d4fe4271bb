"""Observability as code: one PrometheusRule and one Grafana dashboard per site.

Why generated: the series differ per runtime (vLLM's `vllm:*`, llama.cpp's `llamacpp:*`) and per
vendor's device exporter (DCGM_FI_*, AMD's gpu_*, Gaudi's habanalabs_*, Intel XPU's hw_*, each in its
own unit), and hand-written dashboards drift from what a site actually runs. Names come only from
the tables (`Runtime.metrics`, `Runtime.queue_metric`, `VendorProfile.device_metrics`, the router's
exporter constants), so a runtime or vendor added to its table shows up here without an edit. The
metal-agent's silence alert stays with the metal plan (plan/metal.py), which owns the heartbeat metric.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from ..addons import monitoring_on
from ..hardware import vendor
from ..runtimes import runtime
from ..spec import InferenceServiceSpec, SiteSpec
from ..spec.router import RouterSpec
from .errors import PlanError
from .meta import discovery_labels, manifest, metadata, standard_labels
from .router_config import ROUTER_FAIL_CLOSED, ROUTER_REQUESTS, ROUTER_TOKENS

# what turns a vendor's series into the panel's unit (MiB, percent); a unit not listed is a table error
MEMORY_TO_MIB = {"mbytes": "", "bytes": " / 1048576"}
UTILISATION_TO_PERCENT = {"percent": "", "ratio": " * 100"}
KV_PRESSURE = 0.95  # KV cache this full for 10 minutes: requests are being preempted or queued
FAIL_CLOSED_RATIO = 0.05  # share of a router's requests refused because a guard could not decide


def _sel(site: SiteSpec, svc: InferenceServiceSpec) -> str:
    return f'namespace="{site.namespace}",service="{svc.name}"'


def _alert(
    name: str, expr: str, for_: str, severity: str, site: SiteSpec, summary: str, description: str, **labels: str
) -> dict:
    return {
        "alert": name,
        "expr": expr,
        "for": for_,
        "labels": {"severity": severity, "site": site.name, **labels},
        "annotations": {"summary": summary, "description": description},
    }


def service_alerts(site: SiteSpec, svc: InferenceServiceSpec) -> list[dict]:
    rt = runtime(svc.runtime)
    if not rt.metrics_path or not vendor(svc.accelerator.vendor).schedulable:
        return []
    sel = _sel(site, svc)
    out = [
        _alert(
            "LLMKubeRuntimeDown",
            f"sum(up{{{sel}}}) == 0 or absent(up{{{sel}}})",
            "5m",
            "critical",
            site,
            f"{svc.name} has no scrapeable replica",
            f"No {rt.name} pod of {svc.name} in {site.namespace} answered its metrics scrape for 5 minutes.",
            service=svc.name,
        )
    ]
    if rt.queue_metric:
        out.append(
            _alert(
                "LLMKubeQueueSaturated",
                f"avg({rt.queue_metric}{{{sel}}}) > {svc.parallel_slots}",
                "10m",
                "warning",
                site,
                f"{svc.name} is queueing",
                f"More requests wait per replica than it serves at once ({svc.parallel_slots}) for 10 "
                "minutes: add replicas or devices.",
                service=svc.name,
            )
        )
    if rt.metrics.kv_cache_usage:
        out.append(
            _alert(
                "LLMKubeKVCachePressure",
                f"max({rt.metrics.kv_cache_usage}{{{sel}}}) > {KV_PRESSURE:g}",
                "10m",
                "warning",
                site,
                f"{svc.name}'s KV cache is nearly full",
                f"KV-cache usage above {KV_PRESSURE:.0%} for 10 minutes: requests are preempted; lower "
                "parallelSlots/contextSize or add replicas.",
                service=svc.name,
            )
        )
    return out


def router_alerts(site: SiteSpec, router: RouterSpec) -> list[dict]:
    sel = f'job=~"{site.namespace}/{router.name}(-external)?"'
    expr = (
        f"sum(rate({ROUTER_REQUESTS}{{{sel},{ROUTER_FAIL_CLOSED}}}[5m])) / "
        f"sum(rate({ROUTER_REQUESTS}{{{sel}}}[5m])) > {FAIL_CLOSED_RATIO:g}"
    )
    return [
        _alert(
            "LLMKubeRouterFailClosed",
            expr,
            "10m",
            "warning",
            site,
            f"router {router.name} fails closed",
            f"Over {FAIL_CLOSED_RATIO:.0%} of {router.name}'s requests are refused because a guard could not "
            "decide (unknown classification, missing team): check the audit lines.",
            router=router.name,
        )
    ]


def _panel(pid: int, title: str, unit: str, targets: list[tuple[str, str]]) -> dict:
    return {
        "id": pid,
        "type": "timeseries",
        "title": title,
        "datasource": {"type": "prometheus"},
        "gridPos": {"h": 8, "w": 12, "x": 12 * ((pid - 1) % 2), "y": 8 * ((pid - 1) // 2)},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [{"expr": e, "legendFormat": legend, "refId": chr(65 + i)} for i, (e, legend) in enumerate(targets)],
    }


def _scale(vendor_name: str, key: str, unit: str, known: dict[str, str]) -> str:
    if unit not in known:
        raise ValueError(
            f"vendor {vendor_name}: device_metrics {key} {unit!r} is not one of {', '.join(known)} (hardware.py)"
        )
    return known[unit]


def dashboard(site: SiteSpec, services: Sequence[InferenceServiceSpec], routers: Sequence[RouterSpec]) -> dict:
    """The site's Grafana dashboard (JSON model): one query per runtime/vendor the site runs."""
    ns = site.namespace
    on_k8s = [s for s in services if vendor(s.accelerator.vendor).schedulable and runtime(s.runtime).metrics_path]
    rts = sorted({s.runtime for s in on_k8s})
    tokens, queue, ttft, kv = [], [], [], []
    for name in rts:
        rt = runtime(name)
        m = rt.metrics
        if m.generated_tokens_total:
            tokens.append(
                (f'sum by (service) (rate({m.generated_tokens_total}{{namespace="{ns}"}}[5m]))', "{{service}}")
            )
        if rt.queue_metric:
            queue.append((f'sum by (service) ({rt.queue_metric}{{namespace="{ns}"}})', "{{service}}"))
        if m.ttft_histogram:
            ttft.append(
                (
                    f"histogram_quantile(0.95, sum by (service, le) (rate({m.ttft_histogram}_bucket"
                    f'{{namespace="{ns}"}}[5m])))',
                    "p95 {{service}}",
                )
            )
        if m.kv_cache_usage:
            kv.append((f'max by (service) ({m.kv_cache_usage}{{namespace="{ns}"}})', "{{service}}"))
    if routers:
        tokens.append(
            (
                f'sum by (model_group, backend) (rate({ROUTER_TOKENS}{{namespace="{ns}",kind="completion"}}[5m]))',
                "router {{model_group}} / {{backend}}",
            )
        )
    memory, util = [], []
    for v in sorted({p.vendor for p in site.accelerators}):
        dm = vendor(v).device_metrics
        if dm.get("memory_used"):
            scale = _scale(v, "memory_unit", dm.get("memory_unit", "mbytes"), MEMORY_TO_MIB)
            memory.append((f"sum by (instance) ({dm['memory_used']}){scale}", f"{v} {{{{instance}}}}"))
        if dm.get("utilisation"):
            scale = _scale(v, "utilisation_unit", dm.get("utilisation_unit", "percent"), UTILISATION_TO_PERCENT)
            util.append((f"avg by (instance) ({dm['utilisation']}){scale}", f"{v} {{{{instance}}}}"))
    panels = [
        ("Generated tokens/s", "short", tokens),
        ("Queue depth", "short", queue),
        ("Time to first token (p95)", "s", ttft),
        ("KV-cache usage", "percentunit", kv),
        ("Device memory used (MiB)", "decmbytes", memory),
        ("Device utilisation", "percent", util),
    ]
    return {
        "title": f"llmkube {site.name}",
        "uid": f"llmkube-{site.name}"[:40],
        "schemaVersion": 39,
        "tags": ["llmkube", site.name],
        "time": {"from": "now-6h", "to": "now"},
        "panels": [_panel(i + 1, t, u, q) for i, (t, u, q) in enumerate(panels) if q],
    }


def plan_observability(
    site: SiteSpec, services: Sequence[InferenceServiceSpec], routers: Sequence[RouterSpec]
) -> list[dict]:
    """The site's PrometheusRule and dashboard ConfigMap (site.monitoring.alerts; unset: with addons.monitoring)."""
    wanted = site.monitoring.alerts if site.monitoring.alerts is not None else site.addons.monitoring
    if not wanted:
        return []
    if not monitoring_on(site):
        raise PlanError(
            "site.monitoring.alerts",
            "alert rules need a Prometheus operator: set site.addons.monitoring "
            "or list monitoring.coreos.com in site.clusterProvides",
        )
    labels = {**standard_labels(f"{site.name}-llmkube", site.name, "observability"), **discovery_labels(site=site.name)}
    rules = [r for s in services for r in service_alerts(site, s)]
    rules += [a for rt in routers for a in router_alerts(site, rt)]
    out = []
    if rules:
        meta = metadata(f"{site.name}-llmkube", site.namespace, labels)
        out.append(
            manifest(
                "monitoring.coreos.com/v1",
                "PrometheusRule",
                meta,
                spec={"groups": [{"name": "llmkube", "rules": rules}]},
            )
        )
    board = dashboard(site, services, routers)
    out.append(
        manifest(
            "v1",
            "ConfigMap",
            metadata(f"{site.name}-llmkube-dashboard", site.namespace, {**labels, "grafana_dashboard": "1"}),
            data={f"llmkube-{site.name}.json": json.dumps(board, indent=1, sort_keys=True)},
        )
    )
    return out
