"""gpu-fit (stack): each accelerated service's model fits its device per the fit estimator; a weights-only
lower bound already refuses what cannot fit, and an unjudged fit is refused at air-gapped sites, where
nobody can look the facts up later (elsewhere `gpu-fit-unknown` reports it).

Like capacity it reads the site's inventory (`accelerators` pools, metal hosts), the one thing an
admission controller never sees, plus the header facts recorded on the Model component."""

from __future__ import annotations

from ...hardware import vendor
from ...modelinfo.fit import fit_service
from ...plan.scheduling import matching_pools
from ...units import GIB
from ..base import Rule, Violation
from ..inventory import accelerated_services
from ..view import SiteView, StackView


def _model_info(facts: dict | None):
    """Header facts recorded on the Model component, as the estimator's ModelInfo (None if unusable)."""
    if not facts:
        return None
    from dataclasses import fields

    from ...modelinfo.info import ModelInfo

    try:
        return ModelInfo(**{f.name: facts[f.name] for f in fields(ModelInfo) if f.name in facts})
    except TypeError:
        return None


def _device_memory(site: SiteView, svc) -> tuple[str | None, float | None]:
    """(product, GiB per device) the service runs on: its pool, or for metal the smallest usable
    unified memory among the Apple Silicon hosts serving it."""
    if not vendor(svc.spec.accelerator.vendor).schedulable:
        hosts = [h for h in site.spec.metal_hosts if not svc.spec.hosts or h.name in svc.spec.hosts]
        if not hosts:
            return None, None
        host = min(hosts, key=lambda h: h.unified_memory_gi_b * h.usable_fraction)
        return f"Apple {host.chip}", host.unified_memory_gi_b * host.usable_fraction
    pools = matching_pools(site.spec, svc.spec) or site.spec.pools_for(svc.spec.accelerator.vendor)
    pool = pools[0] if pools else None
    product = (pool.product if pool else None) or svc.spec.accelerator.product
    return product, (pool.memory_gi_b if pool else None) or svc.spec.accelerator.min_memory_gi_b


def _fit_candidates(site: SiteView):
    """GPU services, and Apple Silicon services (served by metal hosts' unified memory)."""
    yield from accelerated_services(site)
    yield from (svc for svc in site.services if not vendor(svc.spec.accelerator.vendor).schedulable)


HOW_TO_SUPPLY = (
    "name the model as in the catalog (`llmkube-iac catalog`) or make its header readable at "
    "plan time (a file/pvc source, a store in site.modelStores, or site.hfEndpoint for hf:// "
    "sources); sizeGiB gives the weights, accelerator.product or the pool's memoryGiB the device"
)


def _fits(view: StackView):
    """(site, service, verdict, summary, missing) for every accelerated service with a model."""
    for site in view.sites.values():
        for svc in _fit_candidates(site):
            model, facts = site.model_for(svc)
            if model is None:
                continue
            product, memory = _device_memory(site, svc)
            if not vendor(svc.spec.accelerator.vendor).schedulable:
                product = None  # memory_gib is the usable unified memory itself
            try:
                report = fit_service(model, svc.spec, product=product, memory_gib=memory, info=_model_info(facts))
            except ValueError as exc:
                yield site, svc, "error", f"cannot estimate the fit: {exc}", [], ""
                continue
            verdict, summary = report.verdict, report.summary()
            weights = report.breakdown.get("weights", 0)
            if verdict == "unknown" and memory and weights > memory * GIB * report.devices:
                verdict = "does-not-fit"  # the weights alone exceed every device together: no KV facts needed
                summary = (
                    f"does-not-fit: the weights alone ({weights / 2**30:.2f} GiB) exceed {report.devices} x "
                    f"{memory:g} GiB; use a smaller model or quantization, or more/larger devices "
                    f"({summary})"
                )
            device = f"{report.devices} x {product or svc.spec.accelerator.vendor}"
            yield site, svc, verdict, summary, report.missing, device


def _unknown_message(where: str, missing: list[str], airgapped: bool) -> str:
    why = (
        " (air-gapped site: nobody can look the facts up later, so an unjudged service is refused)" if airgapped else ""
    )
    return (
        f"{where}: the fit cannot be judged{why}: the estimator lacks {', '.join(missing) or 'facts'}; "
        f"to supply them, {HOW_TO_SUPPLY}"
    )


def check_fit(view: StackView, cfg: dict):
    refuse = set(cfg.get("refuse", ["does-not-fit"]))
    airgap_unknown = cfg.get("unknownAtAirGappedSites", True)
    for site, svc, verdict, summary, missing, device in _fits(view):
        where = f"service {svc.spec.name} at site {site.spec.name}"
        if verdict == "error":
            yield Violation(f"{where}: {summary}", svc.res.urn)
        elif verdict == "unknown" and site.spec.air_gapped and airgap_unknown:
            yield Violation(_unknown_message(where, missing, True), svc.res.urn)
        elif verdict in refuse:
            yield Violation(f"{where}: {verdict} on {device}: {summary}", svc.res.urn)


RULE = Rule(
    "gpu-fit",
    "Every accelerated service's model (weights + KV cache at its context and slots + runtime "
    "overhead) fits its device per the fit estimator.",
    "mandatory",
    "Pick a smaller quantization, a shorter contextSize or fewer parallelSlots, quantize the KV cache, add "
    "devices (accelerator.count with sharding) or choose a pool with more memory; the message has the breakdown.",
    "stack",
    check_fit,
    {
        "refuse": {
            "type": "array",
            "items": {"type": "string", "enum": ["does-not-fit", "marginal", "unknown"]},
            "default": ["does-not-fit"],
            "description": "Fit verdicts that count as violations",
        },
        "unknownAtAirGappedSites": {
            "type": "boolean",
            "default": True,
            "description": "An unjudged fit at an air-gapped site is a violation",
        },
    },
)
