"""Cost per token at plan time: a memory-bandwidth roofline of decoding, priced by the site's economics.

Why a roofline: decoding one token reads every active weight and the sequence's KV cache once,
so on the batch sizes a service runs it is bound by memory bandwidth, not arithmetic. One step
of a replica with S busy slots reads min(weights, active weights x S) + S x KV-per-sequence bytes
(MoE experts are shared across the batch, never more than all of them) and yields S tokens:

    tokens/s = S x bandwidth x efficiency / bytes per step

bandwidth is the devices' published peak (accelerator table, or the pool's declared figure),
aggregated over tensor-parallel devices only (a llama.cpp layer split reads its layers one device
after the other); KV is read at half the service's context (a sequence's mean length as it grows
from empty to full). The hourly cost of a replica is its devices' straight-line amortisation plus
their power x PUE x electricity price; $/1M tokens = hourly cost / (tokens/s x 3600 x utilisation)
x 1e6. Prefill (compute-bound and cheaper per token) is priced like decode: an upper bound for
input tokens. Unknown facts make the cost unknown, with the reason; nothing is invented. Pure.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..hardware import vendor
from ..modelinfo.accelerators import lookup_accelerator
from ..modelinfo.fit import GGUF_RUNTIMES, _spec_info, kv_cache_bytes
from ..modelinfo.info import ModelInfo
from ..spec import AcceleratorPool, InferenceServiceSpec, MetalHost, ModelSpec, SiteSpec
from ..spec.economics import DeviceEconomics
from .scheduling import matching_pools

HOURS_PER_YEAR = 24 * 365


@dataclass
class CostEstimate:
    """$/1M tokens of one service, with the figures it came from; `unknown` says why when it cannot be priced."""

    service: str
    site: str
    dollars_per_million: float | None = None
    tokens_per_second: float | None = None
    dollars_per_hour: float | None = None
    bandwidth_gb_s: float | None = None
    bytes_per_step: int | None = None
    slots: int = 1
    devices: int = 1
    device: str | None = None
    unknown: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def dollars_per_token(self) -> float | None:
        return None if self.dollars_per_million is None else self.dollars_per_million / 1e6

    def to_dict(self) -> dict:
        return asdict(self)


def _device_of(
    site: SiteSpec, svc: InferenceServiceSpec, pool: AcceleratorPool | None, host: MetalHost | None
) -> tuple[str | None, DeviceEconomics | None, float | None]:
    """(device name, its economics, its bandwidth in GB/s) for the pool/host the service runs on."""
    if not vendor(svc.accelerator.vendor).schedulable:
        hosts = (
            [host]
            if host
            else sorted((h for h in site.metal_hosts if not svc.hosts or h.name in svc.hosts), key=lambda h: h.name)
        )
        if not hosts:
            return None, None, None
        h = hosts[0]
        acc = lookup_accelerator(h.chip)
        econ = h.economics
        bw = (econ.bandwidth_gb_s if econ else None) or (acc.bandwidth_gb_s if acc else None)
        return f"Apple {h.chip} ({h.name})", econ, bw
    if pool is None:
        pools = matching_pools(site, svc)
        pool = pools[0] if pools else None
    product = (pool.product if pool else None) or svc.accelerator.product
    acc = lookup_accelerator(product) if product else None
    econ = pool.economics if pool else None
    bw = (econ.bandwidth_gb_s if econ else None) or (acc.bandwidth_gb_s if acc else None)
    return product or (pool.name if pool else None), econ, bw


def _active_fraction(info: ModelInfo, model: ModelSpec, notes: list[str]) -> float:
    if info.active_parameter_count and info.parameter_count:
        return min(info.active_parameter_count / info.parameter_count, 1.0)
    if model.active_parameters_b and model.total_parameters_b:
        return min(model.active_parameters_b / model.total_parameters_b, 1.0)
    if model.is_moe or info.is_moe:
        notes.append("MoE without activeParametersB: every weight counted as read per token (an upper bound)")
    return 1.0


def decode_traffic(svc: InferenceServiceSpec, model: ModelSpec, info: ModelInfo) -> tuple[int, list[str]]:
    """(bytes one decode step of a replica reads with every slot busy, notes on what was left out);
    the site-independent half of the estimate (placement computes it once per service). Needs the
    weights size (info.total_bytes)."""
    notes: list[str] = []
    total = info.total_bytes or 0
    active = int(total * _active_fraction(info, model, notes))
    slots = svc.parallel_slots
    context = svc.context_size or info.context_length or model.context_window
    kv_seq = 0
    if context and not info.missing_for_kv():
        kv_seq = kv_cache_bytes(info, max(context // 2, 1), 1, svc.kv_cache_type_k, svc.kv_cache_type_v, svc.runtime)
    else:
        notes.append("KV-cache reads left out (layer/head facts or context unknown): throughput is an upper bound")
    return min(total, active * slots) + slots * kv_seq, notes


def estimate_cost(
    site: SiteSpec,
    svc: InferenceServiceSpec,
    model: ModelSpec,
    info: ModelInfo | None = None,
    pool: AcceleratorPool | None = None,
    host: MetalHost | None = None,
    traffic: tuple[int, list[str]] | None = None,
) -> CostEstimate:
    """The service's $/1M tokens at `site` (on `pool`/`host`, default: where it is scheduled);
    `traffic` is decode_traffic's answer when the caller already has it."""
    out = CostEstimate(svc.name, site.name, slots=svc.parallel_slots)
    if vendor(svc.accelerator.vendor).resource_key is None and vendor(svc.accelerator.vendor).schedulable:
        out.unknown = f"{svc.accelerator.vendor} services are not priced (no device economics for CPU nodes)"
        return out
    name, econ, bw = _device_of(site, svc, pool, host)
    out.device, out.devices, out.bandwidth_gb_s = name, max(svc.device_count, 1), bw
    if site.economics is None:
        out.unknown = f"site {site.name} declares no economics (electricityDollarsPerKWh, pue)"
        return out
    if econ is None:
        out.unknown = f"no economics (priceDollars, powerWatts) on the pool/host of {name or 'the service'}"
        return out
    if not bw:
        out.unknown = f"no published memory bandwidth for {name or 'the device'}: set economics.bandwidthGBs"
        return out
    info = info or _spec_info(model)
    if not info.total_bytes:
        out.unknown = "the weights size is unknown (sizeGiB, or totalParametersB + quantization)"
        return out
    step, notes = traffic or decode_traffic(svc, model, info)
    out.notes += notes
    slots = svc.parallel_slots
    tensor_parallel = svc.runtime not in GGUF_RUNTIMES or (svc.sharding is not None and svc.sharding.mode == "tensor")
    lanes = out.devices if tensor_parallel else 1
    eff = site.economics.bandwidth_efficiency
    tps = slots * bw * 1e9 * lanes * eff / step
    per_device = (
        econ.price_dollars / (econ.amortisation_years * HOURS_PER_YEAR)
        + econ.power_watts / 1000 * site.economics.pue * site.economics.electricity_dollars_per_kwh
    )
    hourly = per_device * out.devices
    out.tokens_per_second, out.dollars_per_hour, out.bytes_per_step = tps, hourly, step
    out.dollars_per_million = hourly / (tps * 3600 * site.economics.utilisation) * 1e6
    return out


def break_even(cost: CostEstimate, provider_dollars_per_million: float) -> dict | None:
    """Against a provider's price: the utilisation above which the local service is cheaper, and the
    monthly token volume at which both cost the same (the replica's hours are paid either way)."""
    if cost.dollars_per_hour is None or not cost.tokens_per_second or provider_dollars_per_million <= 0:
        return None
    full = cost.tokens_per_second * 3600  # tokens per hour at saturation
    utilisation = cost.dollars_per_hour / (full * provider_dollars_per_million / 1e6)
    monthly = cost.dollars_per_hour * 730 / provider_dollars_per_million * 1e6
    return {"utilisation": utilisation, "tokensPerMonth": monthly, "cheaperLocally": utilisation <= 1.0}
