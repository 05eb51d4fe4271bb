"""`<out>/report.html`: the plan as one self-contained page people would rather look at than read.

Why its own module and plain string building: the page must open anywhere (an air-gapped
laptop, a CI artifact) — inline CSS and SVG only, no script, no font, no URL — and every value in
it comes from the rendered resources (the same specs the policy rules read), escaped. Sections:
sites and jurisdictions, pools with device occupancy, each service's memory-fit bar (weights / KV /
overhead against the device), placement and its reasons, SLOs and quotas when declared, $/1M
tokens and the break-even against declared external providers, and the policy verdicts.
"""

from __future__ import annotations

from collections import defaultdict
from html import escape

from ..hardware import vendor
from ..modelinfo.fit import GiB, fit_service
from ..plan.cost import CostEstimate, break_even
from ..plan.scheduling import matching_pools
from ..policy.base import Res
from ..policy.inventory import device_total
from ..policy.rules.gpu_fit import _device_memory, _model_info
from ..policy.view import StackView
from ..spec.federation import PeerBackend
from ..spec.router import ExternalBackend

PLACEMENT = "llmkube:index:Placement"
CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2330;background:#f5f6f8}
header{background:#1d2330;color:#fff;padding:18px 28px}header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;color:#b8c0d0}main{padding:18px 28px;max-width:1200px}
section{background:#fff;border-radius:8px;padding:14px 18px;margin:0 0 16px;box-shadow:0 1px 2px #0001}
h2{font-size:16px;margin:0 0 10px}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e6e8ec;vertical-align:top}
th{font-weight:600;color:#4a5568;font-size:12px;text-transform:uppercase}
.tag{display:inline-block;padding:1px 7px;border-radius:10px;font-size:12px;background:#e8edf7;margin-right:4px}
.ok{background:#dcf3e3;color:#17603a}.warn{background:#fff1cc;color:#7a5300}.bad{background:#fde0e0;color:#8a1c1c}
.muted{color:#6b7280;font-size:12px}.num{text-align:right;font-variant-numeric:tabular-nums}
.legend span{margin-right:14px;font-size:12px}.sw{display:inline-block;width:10px;height:10px;margin-right:4px}
"""
COLORS = {"weights": "#3b6fd4", "kv_cache": "#e39b2d", "overhead": "#8c95a6", "free": "#e6e8ec"}


def _fmt_money(v) -> str:
    return "—" if v is None else (f"${v:,.4f}" if v < 1 else f"${v:,.2f}")


def _tag(text: str, cls: str = "") -> str:
    return f'<span class="tag {cls}">{escape(str(text))}</span>'


def _bar(parts: list[tuple[str, float]], total: float, width: int = 360) -> str:
    """A horizontal stacked bar (inline SVG): parts against the device's usable memory."""
    scale = width / max(total, sum(v for _, v in parts), 1e-9)
    x, rects = 0.0, []
    for key, value in parts:
        w = max(value * scale, 0)
        rects.append(
            f'<rect x="{x:.1f}" y="2" width="{w:.1f}" height="14" fill="{COLORS[key]}">'
            f"<title>{escape(key)}: {value / GiB:.2f} GiB</title></rect>"
        )
        x += w
    cap = total * scale
    rects.append(f'<line x1="{cap:.1f}" y1="0" x2="{cap:.1f}" y2="18" stroke="#c53030" stroke-width="2"/>')
    return (
        f'<svg width="{width + 4}" height="18" role="img" aria-label="memory fit">'
        f'<rect x="0" y="2" width="{cap:.1f}" height="14" fill="{COLORS["free"]}"/>{"".join(rects)}</svg>'
    )


def _occupancy(used: int, have: int, width: int = 160) -> str:
    frac = min(used / have, 1.0) if have else 0.0
    color = "#c53030" if used > have else "#3b6fd4"
    return (
        f'<svg width="{width}" height="14" role="img" aria-label="occupancy"><rect width="{width}" height="14" '
        f'fill="#e6e8ec"/><rect width="{frac * width:.1f}" height="14" fill="{color}"/></svg> '
        f'<span class="muted">{used} / {have}</span>'
    )


def report_html(result) -> str:
    resources = [Res(r.urn, r.type, r.name, r.props, r.parent) for r in result.resources]
    view = StackView(resources)
    placements = [p for r in resources if r.type == PLACEMENT for p in r.props.get("placements") or []]
    fleet_sites = [s for r in resources if r.type == PLACEMENT for s in r.props.get("sites") or []]
    costs = {
        (r.props["spec"]["name"], n): CostEstimate(**c)
        for r in resources
        if r.type == "llmkube:index:Site" and isinstance(r.props.get("spec"), dict)
        for n, c in (r.props.get("costs") or {}).items()
    }
    verdicts = result.policy_results or []
    mandatory = [p for p in verdicts if getattr(p, "level", None) == "mandatory"]
    title = f"{result.project.name} / {result.project.stack}"
    out = [
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{CSS}</style></head><body><header><h1>{escape(title)}</h1>"
        f"<p>{len(view.sites)} site(s), {sum(len(s.services) for s in view.sites.values())} service(s), "
        f"{len(mandatory)} mandatory and {len(verdicts) - len(mandatory)} advisory policy finding(s)</p></header>"
        "<main>"
    ]
    out.append(_sites(view, fleet_sites))
    out.append(_services(view, costs))
    if placements:
        out.append(_placement(placements))
    out.append(_routes(view))
    out.append(_economics(view, costs))
    out.append(_governance(view))
    out.append(_policy(verdicts))
    out.append("</main></body></html>")
    return "".join(out)


def _sites(view: StackView, fleet_sites: list[dict]) -> str:
    rows = []
    for name, site in sorted(view.sites.items()):
        s = site.spec
        used: dict[str, int] = defaultdict(int)
        for svc in site.services:
            pools = matching_pools(s, svc.spec)
            if pools and svc.spec.device_count:
                used[pools[0].name] += svc.spec.device_count * svc.spec.max_replicas
        pools = "".join(
            f"<div>{_tag(p.name)} {escape(p.product or p.vendor)} {_occupancy(used[p.name], device_total([p]))}</div>"
            for p in s.accelerators
        )
        host_run = [x.spec for x in site.services if not vendor(x.spec.accelerator.vendor).schedulable]
        hosts = "".join(
            f"<div>{_tag(h.name)} Apple {escape(h.chip)}, {h.unified_memory_gi_b:g} GiB "
            f'<span class="muted">({sum(1 for x in host_run if not x.hosts or h.name in x.hosts)} '
            "service(s))</span></div>"
            for h in s.metal_hosts
        )
        gap = _tag("air-gapped", "warn") if s.air_gapped else _tag("connected")
        rows.append(
            f'<tr><td><b>{escape(name)}</b><div class="muted">{escape(s.region or "")}</div></td>'
            f"<td>{_tag(s.jurisdiction)}</td><td>{gap}</td><td>{pools}{hosts or ''}</td></tr>"
        )
    others = [f for f in fleet_sites if f["name"] not in view.sites]
    for f in others:
        rows.append(
            f'<tr><td>{escape(f["name"])}<div class="muted">another stack of the fleet</div></td>'
            f"<td>{_tag(f['jurisdiction'])}</td>"
            f"<td>{_tag('air-gapped', 'warn') if f.get('airGapped') else ''}</td>"
            '<td class="muted">rendered by its own stack</td></tr>'
        )
    return (
        "<section><h2>Sites</h2><table><tr><th>site</th><th>jurisdiction</th><th>network</th>"
        "<th>pools and hosts (devices claimed at max replicas / inventory)</th></tr>"
        f"{''.join(rows)}</table></section>"
    )


def _services(view: StackView, costs: dict) -> str:
    legend = "".join(
        f'<span><i class="sw" style="background:{c}"></i>{k.replace("_", " ")}</span>' for k, c in COLORS.items()
    )
    rows = []
    for name, site in sorted(view.sites.items()):
        for svc in sorted(site.services, key=lambda x: x.spec.name):
            spec = svc.spec
            model, facts = site.model_for(svc)
            bar, verdict = '<span class="muted">no model facts</span>', "unknown"
            if model is not None:
                product, memory = _device_memory(site, svc)
                if not vendor(spec.accelerator.vendor).schedulable:
                    product = None
                try:
                    rep = fit_service(model, spec, product=product, memory_gib=memory, info=_model_info(facts))
                    verdict = rep.verdict
                    if rep.verdict != "unknown":
                        n = rep.devices
                        bd = rep.breakdown
                        parts = [
                            ("weights", bd["weights"] / n),
                            ("kv_cache", bd["kv_cache"] / n),
                            ("overhead", bd["overhead"] / n),
                        ]
                        bar = (
                            _bar(parts, rep.device_memory_bytes) + f'<div class="muted">'
                            f"{rep.per_device_bytes / GiB:.1f} of {rep.device_memory_bytes / GiB:.1f} GiB "
                            f"per device on {n}x {escape(rep.accelerator or 'device')}</div>"
                        )
                    else:
                        bar = f'<span class="muted">missing: {escape(", ".join(rep.missing))}</span>'
                except ValueError as exc:
                    bar = f'<span class="muted">{escape(str(exc))}</span>'
            cls = {"fits": "ok", "marginal": "warn", "does-not-fit": "bad"}.get(verdict, "")
            cost = costs.get((name, spec.name))
            price = (
                _fmt_money(cost.dollars_per_million)
                if cost and cost.dollars_per_million is not None
                else f'<span class="muted">{escape(cost.unknown if cost else "not priced")}</span>'
            )
            rows.append(
                f'<tr><td><b>{escape(spec.name)}</b><div class="muted">{escape(name)} · '
                f"{escape(spec.runtime)} on {escape(spec.accelerator.vendor)}</div></td>"
                f"<td>{_tag(spec.classification)}</td>"
                f'<td>{_tag(verdict, cls)}</td><td>{bar}</td><td class="num">{price}</td></tr>'
            )
    return (
        f'<section><h2>Services: memory fit and cost</h2><div class="legend">{legend}'
        "<span>red line: usable device memory</span></div><table><tr><th>service</th><th>class</th><th>fit</th>"
        f'<th>per device: weights / KV / overhead</th><th class="num">$/1M tokens</th></tr>{"".join(rows)}'
        "</table></section>"
    )


def _placement(placements: list[dict]) -> str:
    rows = []
    for p in placements:
        where = (
            f"{_tag(p['site'], 'ok')} {escape(p.get('pool') or '')} ({escape(p.get('vendor') or '')})"
            if p.get("site")
            else _tag("not placed", "bad")
        )
        reasons = "".join(f"<div><b>{escape(s)}</b>: {escape(r)}</div>" for s, r in sorted(p["rejected"].items()))
        rows.append(
            f"<tr><td><b>{escape(p['service'])}</b></td><td>{where}</td>"
            f'<td class="num">{_fmt_money(p.get("dollarsPerMillion"))}</td>'
            f'<td class="muted">{reasons}</td></tr>'
        )
    return (
        '<section><h2>Placement</h2><table><tr><th>fleet service</th><th>placed on</th><th class="num">'
        f"$/1M tokens</th><th>why not elsewhere</th></tr>{''.join(rows)}</table></section>"
    )


def _economics(view: StackView, costs: dict) -> str:
    providers = [
        (b, site)
        for site in view.sites.values()
        for _, r in site.routers
        for b in r.backends
        if isinstance(b, ExternalBackend) and b.output_dollars_per_million
    ]
    rows = []
    for (site, svc), c in sorted(costs.items()):
        if c.dollars_per_million is None:
            continue
        evens = []
        for b, _ in providers:
            be = break_even(c, b.output_dollars_per_million)
            if be:
                cls = "ok" if be["cheaperLocally"] else "bad"
                busy = _tag(f"{be['utilisation'] * 100:.1f}% busy", cls)
                evens.append(
                    f"<div>{_tag(b.name)} {_fmt_money(b.output_dollars_per_million)}/1M: local is cheaper "
                    f"above {busy} ({be['tokensPerMonth'] / 1e6:,.0f}M tokens/month)</div>"
                )
        rows.append(
            f'<tr><td>{escape(svc)}<div class="muted">{escape(site)}</div></td>'
            f'<td class="num">{c.tokens_per_second:,.0f}</td>'
            f'<td class="num">{_fmt_money(c.dollars_per_hour)}</td>'
            f'<td class="num">{_fmt_money(c.dollars_per_million)}</td>'
            f"<td>{''.join(evens) or '<span class=muted>no external provider price declared</span>'}</td></tr>"
        )
    if not rows:
        return (
            '<section><h2>Economics</h2><p class="muted">No service is priced: declare site.economics and the '
            "pools' economics (docs/fleet.md, Cost per token).</p></section>"
        )
    return (
        '<section><h2>Economics</h2><p class="muted">Decode throughput from a memory-bandwidth roofline '
        "(docs/fleet.md); cost at the site's declared utilisation.</p><table><tr><th>service</th>"
        '<th class="num">tokens/s per replica</th><th class="num">$/hour</th><th class="num">$/1M tokens</th>'
        f"<th>break-even against external providers</th></tr>{''.join(rows)}</table></section>"
    )


def _routes(view: StackView) -> str:
    """Where each router may send data: in-site services, other sites' routers, providers, with the
    jurisdiction and the highest class each route may carry (what data-residency judges)."""
    rows = []
    for _name, site in sorted(view.sites.items()):
        for _, router in site.routers:
            for b in router.backends:
                if isinstance(b, PeerBackend):
                    kind, where, ceiling = (
                        f"site {b.site} / {b.router}",
                        b.jurisdiction or "unknown",
                        b.max_classification,
                    )
                elif isinstance(b, ExternalBackend):
                    kind, where, ceiling = f"provider {b.provider}", b.jurisdiction, b.max_classification
                else:
                    kind, where, ceiling = f"service {b.service}", site.spec.jurisdiction, "restricted"
                rows.append(
                    f'<tr><td>{escape(router.name)}<div class="muted">{escape(site.spec.name)}</div></td>'
                    f"<td>{escape(b.name)}</td><td>{escape(kind)}</td><td>{escape(where)}</td>"
                    f"<td>{escape(ceiling)}</td></tr>"
                )
    if not rows:
        return ""
    return (
        "<section><h2>Routes</h2><table><tr><th>router</th><th>backend</th><th>reaches</th><th>jurisdiction</th>"
        f"<th>up to</th></tr>{''.join(rows)}</table></section>"
    )


def _governance(view: StackView) -> str:
    rows = []
    for _name, site in sorted(view.sites.items()):
        for svc in site.services:
            slo = svc.res.props.get("spec", {}).get("slo")
            if slo:
                rows.append(f"<tr><td>SLO</td><td>{escape(svc.spec.name)}</td><td>{escape(str(slo))}</td></tr>")
        for _, router in site.routers:
            for t in router.teams:
                limits = ", ".join(f"{k} {v}" for k, v in (("rpm", t.rpm), ("tpm", t.tpm)) if v) or "no limits"
                rows.append(
                    f"<tr><td>quota</td><td>{escape(router.name)} / {escape(t.name)}</td>"
                    f"<td>{escape(limits)}; up to {escape(t.max_classification)}</td></tr>"
                )
        for t in site.res.props.get("teams") or []:
            rows.append(f"<tr><td>team</td><td>{escape(str(t.get('name', '')))}</td><td>{escape(str(t))}</td></tr>")
    if not rows:
        return '<section><h2>SLOs and quotas</h2><p class="muted">None declared.</p></section>'
    return (
        f"<section><h2>SLOs and quotas</h2><table><tr><th>kind</th><th>for</th><th>target / limit</th></tr>"
        f"{''.join(rows)}</table></section>"
    )


def _policy(verdicts: list) -> str:
    if not verdicts:
        return "<section><h2>Policy</h2><p>" + _tag("no findings", "ok") + "</p></section>"
    rows = "".join(
        f"<tr><td>{_tag(v.level, 'bad' if v.level == 'mandatory' else 'warn')}</td>"
        f"<td>{escape(v.rule)}</td><td>{escape(v.message)}</td></tr>"
        for v in verdicts
    )
    return (
        f"<section><h2>Policy</h2><table><tr><th>level</th><th>rule</th><th>finding</th></tr>{rows}</table></section>"
    )
