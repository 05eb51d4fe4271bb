"""Placement: which site (and pool, or Apple Silicon host) serves each fleet-level service.

Why at plan time and pure: every site's stack reads the same fleet definition and must reach the
same answer, and a refusal must name, per site, why it was rejected — so placement is a function
of the FleetSpec alone (the same rules the policy pack applies, asked before a site is chosen):

1. the service's own constraints (sites, jurisdictions, vendors, minimum memory, product);
2. data residency: the site's jurisdiction is allowed for the service's classification
   (policy/rules/data_residency.py, with the fleet's allowedJurisdictions or the rule's defaults);
3. air gap: an air-gapped site can reach the model's source (policy/rules/airgap_model_sources.py);
4. fit: the memory-fit estimator says the model fits one replica's devices (an unjudged fit is
   refused: nobody places a model blind);
5. capacity: the pool has the devices at max replicas that earlier services have not taken
   (a metal host: unified memory not yet taken);
6. cost: the cheapest $/1M tokens (plan/cost.py) wins; unknown cost ranks after every known one.

Services are placed in declaration order (earlier services take capacity first); ties break on
site name, then pool/host name, so the result is deterministic. Per-site services of the sites'
own stacks are not seen here: the capacity rule checks both together at preview.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..hardware import VENDORS
from ..modelinfo.fit import GiB, _spec_info, fit_service
from ..modelinfo.info import ModelInfo
from ..policy.rules.airgap_model_sources import source_problem_at
from ..policy.rules.data_residency import DEFAULT_ALLOWED, jurisdiction_allowed
from ..runtimes import check_runtime_vendor
from ..spec import AcceleratorPool, InferenceServiceSpec, MetalHost, SiteSpec
from ..spec.fleet import FleetServiceSpec, FleetSpec
from .cost import decode_traffic, estimate_cost
from .federation import fill_peer_jurisdictions
from .scheduling import _norm

# the vendor served by hosts outside Kubernetes' scheduler (the metal-agent's), from the vendor table
HOST_VENDOR = next(name for name, profile in VENDORS.items() if not profile.schedulable)


@dataclass
class Placed:
    """One fleet service's outcome: where it runs (site None: nowhere qualifies) and why not elsewhere."""

    service: str
    site: str | None = None
    pool: str | None = None  # pool name, or the metal host's name
    vendor: str | None = None
    dollars_per_million: float | None = None
    fit: str | None = None
    rejected: dict[str, str] = field(default_factory=dict)  # site -> reason
    spec: InferenceServiceSpec | None = None  # the site-level service it becomes

    def to_dict(self) -> dict:
        return {
            "service": self.service,
            "site": self.site,
            "pool": self.pool,
            "vendor": self.vendor,
            "dollarsPerMillion": self.dollars_per_million,
            "fit": self.fit,
            "rejected": dict(self.rejected),
        }

    def refusal(self) -> str:
        why = "; ".join(f"{site}: {reason}" for site, reason in self.rejected.items())
        return f"fleet service {self.service} cannot be placed on any site ({why or 'the fleet has no sites'})"


@dataclass
class FleetPlacement:
    placed: list[Placed]

    def for_site(self, site: str) -> list[Placed]:
        return [p for p in self.placed if p.site == site]

    @property
    def unplaced(self) -> list[Placed]:
        return [p for p in self.placed if p.site is None]

    def to_dict(self) -> list[dict]:
        return [p.to_dict() for p in self.placed]


@dataclass
class _Slot:
    """A pool or metal host with what is left of it."""

    site: SiteSpec
    name: str
    vendor: str
    product: str | None
    memory_gib: float | None
    devices_per_node: int
    free: float  # devices (pool) or GiB of usable unified memory (metal host)
    pool: AcceleratorPool | None = None
    host: MetalHost | None = None
    ports: dict[int, str] = field(default_factory=dict)  # metal host: port -> the service listening on it


def _slots(site: SiteSpec) -> list[_Slot]:
    out = [
        _Slot(
            site,
            p.name,
            p.vendor,
            p.product,
            p.memory_gi_b,
            p.devices_per_node,
            p.devices_per_node * p.node_count,
            pool=p,
        )
        for p in site.accelerators
    ]
    for h in site.metal_hosts:
        usable = h.unified_memory_gi_b * h.usable_fraction
        out.append(_Slot(site, h.name, HOST_VENDOR, f"Apple {h.chip}", usable, 1, usable, host=h))
    return sorted(out, key=lambda s: s.name)


def place_fleet(fleet: FleetSpec, facts: dict[str, ModelInfo] | None = None) -> FleetPlacement:
    """Place every fleet service (see module docstring); `facts` are header facts by model name."""
    allowed = {k: list(v) for k, v in (fleet.allowed_jurisdictions or {}).items()}
    allowed = {c: allowed.get(c, DEFAULT_ALLOWED[c]) for c in DEFAULT_ALLOWED}
    sites = sorted(fleet.sites, key=lambda s: s.name)
    slots = {s.name: _slots(s) for s in sites}
    infos: dict[str, ModelInfo] = {}
    # services of the same shape (model, runtime, devices, context, engine ...) fit and cost the same on
    # the same device: their probes, fits and decode traffic are computed once (the 2 s target)
    fits: dict[tuple, object] = {}
    specs: dict[tuple, InferenceServiceSpec] = {}
    traffic: dict[tuple, tuple] = {}
    costs: dict[tuple, float | None] = {}
    gaps: dict[tuple, str | None] = {}
    out = []
    for svc in fleet.services:
        model = fleet.model_for(svc)
        key = model.name or svc.name
        if key not in infos:
            infos[key] = (facts or {}).get(key) or _spec_info(model)
        info = infos[key]
        shape = svc.model_dump_json(exclude=_NOT_SHAPE)
        result = Placed(svc.name)
        best = None
        for site in sites:
            why = _site_problem(svc, model.source, site, allowed, gaps)
            if why:
                result.rejected[site.name] = why
                continue
            options, reasons = [], []
            for slot in slots[site.name]:
                problem, probe, fit = _slot_problem(svc, shape, model, info, slot, fits, specs)
                if problem:
                    reasons.append(f"{slot.name}: {problem}")
                    continue
                ckey = (shape, site.name, slot.name)
                if ckey not in costs:
                    tkey = (shape, slot.vendor)
                    if tkey not in traffic:
                        traffic[tkey] = decode_traffic(probe, model, info)
                    costs[ckey] = estimate_cost(
                        site, probe, model, info, pool=slot.pool, host=slot.host, traffic=traffic[tkey]
                    ).dollars_per_million
                cost = costs[ckey]
                options.append(((cost is None, cost or 0.0, site.name, slot.name), slot, probe, fit, cost))
            if not options:
                result.rejected[site.name] = "; ".join(reasons) or "no accelerator pool or metal host"
                continue
            choice = min(options, key=lambda o: o[0])
            if best is None or choice[0] < best[0]:
                if best is not None:
                    result.rejected[best[1].site.name] = _costlier(best[4], choice[4], choice[1].site.name)
                best = choice
            else:
                result.rejected[site.name] = _costlier(choice[4], best[4], best[1].site.name)
        if best is not None:
            _, slot, probe, fit, cost = best
            slot.free -= _need(probe, slot, fit)
            if slot.host is not None:
                slot.ports[svc.endpoint.port] = svc.name
            placed = svc.on(slot.vendor, None if slot.host else slot.product, (slot.host.name,) if slot.host else ())
            result.site, result.pool, result.vendor = slot.site.name, slot.name, slot.vendor
            result.dollars_per_million, result.fit, result.spec = cost, fit.verdict, placed
            result.rejected.pop(slot.site.name, None)
        out.append(result)
    return FleetPlacement(out)


def _costlier(cost: float | None, winner: float | None, winner_site: str) -> str:
    fmt = lambda c: "an unknown cost" if c is None else f"${c:.4f}/1M tokens"  # noqa: E731
    if cost == winner:
        return f"qualifies at {fmt(cost)}, a tie that {winner_site} wins by name"
    return f"qualifies, but at {fmt(cost)} against {fmt(winner)} at {winner_site}"


# fields that change neither the memory fit nor the decode traffic of a service
_NOT_SHAPE = {
    "name",
    "classification",
    "placement",
    "image",
    "env",
    "network",
    "mcp",
    "priority",
    "hosts",
    "endpoint",
    "mode",
    "resources",
    "extra_args",
    "command",
    "args",
}


def _site_problem(svc: FleetServiceSpec, source: str, site: SiteSpec, allowed: dict, gaps: dict) -> str | None:
    p = svc.placement
    if p.sites and site.name not in p.sites:
        return f"not one of placement.sites ({', '.join(p.sites)})"
    if p.jurisdictions and site.jurisdiction not in p.jurisdictions:
        return f"jurisdiction {site.jurisdiction} is not one of placement.jurisdictions ({', '.join(p.jurisdictions)})"
    cls = svc.classification
    if not jurisdiction_allowed(site.jurisdiction, cls, allowed):
        return (
            f"data residency: {cls} data may not be processed in {site.jurisdiction} "
            f"(allowed: {', '.join(allowed[cls]) or 'nowhere'})"
        )
    if (site.name, source) not in gaps:
        gaps[(site.name, source)] = source_problem_at(site, source)
    gap = gaps[(site.name, source)]
    if gap:
        return f"air-gapped and the model source {source} {gap}"
    return None


def _need(placed: InferenceServiceSpec, slot: _Slot, fit) -> float:
    if slot.host is not None:
        return fit.per_device_bytes / GiB
    return placed.device_count * placed.max_replicas


def _slot_problem(svc: FleetServiceSpec, shape: str, model, info, slot: _Slot, fits: dict, specs: dict):
    """(why the slot cannot take the service, or None; a probe spec of its shape on the slot; the fit report)."""
    if slot.vendor not in svc.candidate_vendors:
        return f"vendor {slot.vendor} is not one of {', '.join(svc.candidate_vendors)}", None, None
    try:
        check_runtime_vendor(svc.runtime, slot.vendor, svc.accelerator.allow_vllm_on_cpu)
    except ValueError:
        return f"runtime {svc.runtime} does not run on {slot.vendor}", None, None
    want = svc.accelerator.product
    if want and (not slot.product or _norm(want) not in _norm(slot.product)):
        return f"product {slot.product or 'unnamed'} is not {want}", None, None
    floor = svc.placement.min_memory_gi_b or svc.accelerator.min_memory_gi_b
    if floor and (slot.memory_gib or 0) < floor:
        return f"{slot.memory_gib or 'unknown'} GiB per device is below the {floor:g} GiB minimum", None, None
    if slot.host is not None and svc.endpoint.port in slot.ports:
        return (
            (
                f"port {svc.endpoint.port} is already used by {slot.ports[svc.endpoint.port]} on the host "
                "(set endpoint.port)"
            ),
            None,
            None,
        )
    if slot.host is None and svc.device_count > slot.devices_per_node:
        return f"{svc.device_count} devices per replica but {slot.devices_per_node} per node", None, None
    skey = (shape, slot.vendor, None if slot.host else slot.product)
    if skey not in specs:
        specs[skey] = svc.on(slot.vendor, None if slot.host else slot.product)
    placed = specs[skey]
    fkey = (shape, slot.vendor, slot.product, slot.memory_gib)
    if fkey not in fits:
        product = None if slot.host is not None else slot.product
        try:
            fits[fkey] = fit_service(model, placed, product=product, memory_gib=slot.memory_gib, info=info)
        except ValueError as exc:
            fits[fkey] = exc
    fit = fits[fkey]
    if isinstance(fit, ValueError):
        return f"fit cannot be estimated: {fit}", None, None
    if fit.verdict == "does-not-fit":
        return f"does not fit: {fit.summary()}", None, None
    if fit.verdict == "unknown":
        return f"fit unknown (missing {', '.join(fit.missing)})", None, None
    need = _need(placed, slot, fit)
    if need > slot.free + 1e-9:
        unit = "GiB" if slot.host is not None else "device(s)"
        return f"needs {need:g} {unit} at max replicas but {slot.free:g} remain", None, None
    return None, placed, fit


def refusals(fleet: FleetSpec, placement: FleetPlacement) -> list[tuple[str, str]]:
    """(field path, message) for each fleet service no site can take: the plan is refused (exit 2)."""
    index = {s.name: i for i, s in enumerate(fleet.services)}
    return [(f"fleet.services[{index[p.service]}]", p.refusal()) for p in placement.unplaced]


def site_share(fleet: FleetSpec, placement: FleetPlacement, site_name: str, local: dict) -> dict:
    """The raw stack config of one site: its fleet definition, the fleet services placed there (with the
    fleet models they use) and the site stack's own keys (models, services, routers, teams ...)."""
    from ..spec.errors import SpecError

    if "site" in local:
        raise SpecError(
            [
                (
                    "llmkube:site",
                    "with llmkube:fleet the site comes from the fleet definition "
                    "(llmkube:fleetSite names it): remove llmkube:site",
                )
            ]
        )
    site = fleet.site(site_name)
    routers, problems = fill_peer_jurisdictions({s.name: s.jurisdiction for s in fleet.sites}, local.get("routers"))
    if problems:
        raise SpecError(problems)
    if routers is not None:
        local = {**local, "routers": routers}
    placed = [p.spec for p in placement.for_site(site_name) if p.spec is not None]
    used = {s.model for s in placed if isinstance(s.model, str)}
    models = [m.to_config() for m in fleet.models if m.name in used] + list(local.get("models") or [])
    services = [s.to_config() for s in placed] + list(local.get("services") or [])
    return {**local, "site": site.to_config(), "models": models, "services": services}
