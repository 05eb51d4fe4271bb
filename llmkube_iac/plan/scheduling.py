"""Where a replica may run: vendor labels, the matching inventory pool, tolerations."""

from __future__ import annotations

from dataclasses import dataclass

from ..hardware import VendorProfile
from ..spec import AcceleratorPool, InferenceServiceSpec, SiteSpec
from .errors import PlanError


def _norm(text: str) -> str:
    return "".join(text.lower().split()).replace("-", "")


@dataclass(frozen=True)
class Placement:
    node_selector: dict[str, str]
    tolerations: list[dict]
    pool: AcceleratorPool | None


def matching_pools(site: SiteSpec, service: InferenceServiceSpec) -> list[AcceleratorPool]:
    """Pools of the service's vendor that match its product / minimum memory / device count."""
    acc = service.accelerator
    pools = site.pools_for(acc.vendor)
    if acc.product:
        pools = [p for p in pools if p.product and _norm(acc.product) in _norm(p.product)]
    if acc.min_memory_gi_b:
        pools = [p for p in pools if p.memory_gi_b and p.memory_gi_b >= acc.min_memory_gi_b]
    if service.device_count:
        pools = [p for p in pools if p.devices_per_node >= service.device_count]
    return pools


def place(site: SiteSpec, service: InferenceServiceSpec, profile: VendorProfile) -> Placement:
    selector = dict(profile.node_selector)
    tolerations = [dict(t) for t in profile.tolerations]
    declared = site.pools_for(service.accelerator.vendor)
    pools = matching_pools(site, service)
    if declared and not pools:
        wanted = service.accelerator.product or f"{service.device_count} device(s) per node"
        have = ", ".join(f"{p.name} ({p.product or 'unnamed'}, {p.devices_per_node}/node)" for p in declared)
        raise PlanError(
            "accelerator", f"no {service.accelerator.vendor} pool at site {site.name} matches {wanted}; pools: {have}"
        )
    pool = pools[0] if pools else None
    if service.accelerator.product and profile.product_label and not pool:
        selector[profile.product_label] = profile.product_value(service.accelerator.product)
    if pool:
        selector.update(pool.node_labels)
        for taint in pool.taints:
            tol = taint.toleration()
            if tol not in tolerations:
                tolerations.append(tol)
    return Placement(selector, tolerations, pool)
