"""The memory-fit estimator: weights + KV cache + runtime overhead, split over devices, per device.

Why a breakdown and not one number: the fix differs. Weights too big -> more devices or a smaller
quantization; KV too big -> a shorter context, fewer slots or a quantized KV cache. The KV rule is
exact per layer (GQA heads x head dim, sliding-window layers capped at the window, MLA's
compressed latent), and llama.cpp's own padding and compute-buffer shapes are followed, so the
estimate matches what llama.cpp allocates (checked against it by the `llamacpp` test suite). vLLM-style
runtimes pre-allocate a paged KV pool instead and need only one full-context sequence to start
(paged_pool.py). Stdlib + pydantic only (the metal-agent imports it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ..units import GIB as GiB
from .accelerators import lookup_accelerator
from .info import ModelInfo
from .kv_terms import (
    GGUF_RUNTIMES,
    KV_BYTES,
    KV_PAD,
    LLAMA_UBATCH,
    kv_cache_bytes,
    llamacpp_compute_bytes,
    recurrent_state_bytes,
)
from .paged_pool import (
    BATCHED_TOKENS,
    GPU_MEMORY_UTILIZATION,
    MAX_SEQUENCES,
    PAGE_TOKENS,
    pool_verdict,
    vllm_overhead_bytes,
)

MARGIN = 0.05  # below 5% headroom is "marginal": fragmentation and driver growth eat it

Verdict = Literal["fits", "marginal", "does-not-fit", "unknown"]


@dataclass
class FitReport:
    """Per-device answer with the breakdown (totals over devices) and what to change when it fails."""

    verdict: Verdict
    devices: int
    device_memory_bytes: int
    per_device_bytes: int
    breakdown: dict[str, int]
    headroom_bytes: int
    max_context: int | None
    max_parallel: int | None
    missing: list[str] = field(default_factory=list)
    host_bytes: int = 0  # MoE experts kept in host RAM
    context: int | None = None
    parallel: int = 1
    accelerator: str | None = None
    fixes: list[str] = field(default_factory=list)
    # paged-pool runtimes (vLLM, SGLang, TGI): the KV pool per device that the runtime pre-allocates from
    # what its budget leaves after weights and overhead; None for llama.cpp/Ollama (n_ctx cells up front)
    kv_pool_bytes: int | None = None
    runtime: str | None = None

    def summary(self) -> str:
        """One readable line: verdict, per-device need vs capacity, breakdown and the fix."""
        g = lambda b: f"{b / GiB:.2f}"  # noqa: E731
        if self.verdict == "unknown":
            return f"unknown: cannot estimate without {', '.join(self.missing)}"
        b = self.breakdown
        if self.kv_pool_bytes is not None:
            return self._pool_summary(g)
        line = (
            f"{self.verdict}: {g(self.per_device_bytes)} GiB per device of "
            f"{g(self.device_memory_bytes)} GiB usable "
            f"on {self.devices}x {self.accelerator or 'device'} (weights {g(b['weights'])} "
            f"+ KV {g(b['kv_cache'])} + "
            f"overhead {g(b['overhead'])} GiB in total; context {self.context}, {self.parallel} slot(s)); "
            f"headroom {g(self.headroom_bytes)} GiB"
        )
        if self.host_bytes:
            line += f"; {g(self.host_bytes)} GiB of experts in host RAM"
        if self.fixes:
            line += "; fix: " + " or ".join(self.fixes)
        return line

    def _pool_summary(self, g) -> str:
        b = self.breakdown
        line = (
            f"{self.verdict}: {self.runtime} needs {g(self.per_device_bytes)} GiB per device to start, of a "
            f"{g(self.device_memory_bytes)} GiB budget on {self.devices}x {self.accelerator or 'device'} (weights "
            f"{g(b['weights'])} + overhead {g(b['overhead'])} + one {self.context}-token sequence's KV "
            f"{g(b['kv_cache'])} GiB in total); headroom {g(self.headroom_bytes)} GiB"
        )
        if self.verdict == "does-not-fit":
            line += (
                f"; its KV pool ({g(max(self.kv_pool_bytes or 0, 0))} GiB per device) cannot hold one contextSize "
                "sequence, so the runtime refuses to start"
            )
        else:
            line += (
                f"; its KV pool ({g(self.kv_pool_bytes)} GiB per device) holds {self.max_parallel} full-context "
                f"sequence(s) at once for {self.parallel} slot(s)"
            )
            if (self.max_parallel or 0) < self.parallel:
                line += " (when every slot runs at full context the runtime queues or preempts the rest)"
        if self.host_bytes:
            line += f"; {g(self.host_bytes)} GiB of experts in host RAM"
        if self.fixes:
            line += "; fix: " + " or ".join(self.fixes)
        return line

    def to_dict(self) -> dict:
        from dataclasses import asdict

        return asdict(self)


def _spec_info(model) -> ModelInfo:
    """Facts from the catalog (by name or source) or, failing that, the spec's own published facts."""
    from .catalog import bits_per_weight, catalog_info, load_catalog

    cat = load_catalog()
    name = (model.name or "").lower()
    hit = name if name in cat else next((k for k, e in cat.items() if e.get("source") == model.source), None)
    hit = hit or catalog_name_in_source(model.source, cat)
    info = catalog_info(hit, model.quantization) if hit else ModelInfo(source=model.source, format="spec")
    if model.total_parameters_b and not info.parameter_count:
        info.parameter_count = int(model.total_parameters_b * 1e9)
    if model.context_window and not info.context_length:
        info.context_length = model.context_window
    if model.size_gi_b:
        info.total_bytes = int(model.size_gi_b * GiB)
    elif not info.total_bytes and info.parameter_count and (bpw := bits_per_weight(model.quantization)):
        info.total_bytes = int(info.parameter_count * bpw / 8)
    return info


def catalog_name_in_source(source: str, cat: dict) -> str | None:
    """The catalog model a source names in its file or repository (`.../Qwen3.5-9B-Q4_K_M.gguf`,
    `hf://Qwen/Qwen3.6-35B-A3B-FP8`): the longest catalog name followed by a separator or the end."""
    parts = [p.lower() for p in (source or "").replace("@", "/").split("/") if p]
    best = None
    for key in cat:
        for part in parts[-2:]:
            if (
                part.startswith(key)
                and (len(part) == len(key) or part[len(key)] in "-_.")
                and (best is None or len(key) > len(best))
            ):
                best = key
    return best


def _device_capacity(service, product: str | None, memory_gib: float | None) -> tuple[int | None, str | None]:
    if memory_gib is not None:
        return int(memory_gib * GiB), f"{memory_gib:g} GiB device"
    name = product or service.accelerator.product
    acc = lookup_accelerator(name) if name else None
    if acc is not None:
        return acc.usable_bytes, acc.name
    if name:
        raise ValueError(
            f"unknown accelerator product {name!r}; use one of the table's names "
            f"(llmkube_iac.modelinfo.accelerators) or pass memory_gib"
        )
    if service.accelerator.min_memory_gi_b:
        return int(service.accelerator.min_memory_gi_b * GiB), f"{service.accelerator.min_memory_gi_b:g} GiB device"
    return None, None


def _weights_split(info: ModelInfo, service) -> tuple[int, int]:
    """(bytes on devices, bytes kept in host RAM by MoE CPU offload)."""
    total = info.total_bytes or 0
    off = service.moe_cpu_offload
    if not off or not info.expert_bytes:
        return total, 0
    if off.all_experts:
        return total - info.expert_bytes, info.expert_bytes
    per = info.expert_bytes_per_layer or [info.expert_bytes // max(info.block_count or 1, 1)] * (info.block_count or 1)
    host = sum(per[: off.layers])
    return total - host, host


def _need(info: ModelInfo, service, context: int, parallel: int, devices: int, kv_k, kv_v) -> tuple[int, dict, int]:
    """Per-device bytes for `parallel` sequences (llama.cpp: slots sharing `context` cells), breakdown, host bytes.
    The runtime decides the rules, whatever the file format (vLLM serving a GGUF keeps its paged pool)."""
    gguf_rt = service.runtime in GGUF_RUNTIMES
    weights, host = _weights_split(info, service)
    if gguf_rt and info.host_only_bytes:  # llama.cpp keeps row-read embeddings in host memory
        weights, host = weights - info.host_only_bytes, host + info.host_only_bytes
    if gguf_rt:
        kv = kv_cache_bytes(info, context, parallel, kv_k, kv_v, "llamacpp", service.engine.ubatch_size or LLAMA_UBATCH)
    elif parallel:  # paged pool: one sequence at its peak (a sliding layer holds window - 1 + one step's
        # batched tokens), the others at steady state (sliding layers free the blocks that left the window)
        batched = service.engine.max_num_batched_tokens or BATCHED_TOKENS
        kv = kv_cache_bytes(info, context, 1, kv_k, kv_v, service.runtime, batched)
        kv += (parallel - 1) * kv_cache_bytes(info, context, 1, kv_k, kv_v, service.runtime, 1)
    else:
        kv = 0
    kv += recurrent_state_bytes(info, parallel)
    if gguf_rt:
        fa = service.flash_attention is not False
        over = llamacpp_compute_bytes(info, context, parallel, fa, service.engine.ubatch_size or LLAMA_UBATCH)
        over += (info.vocab_size or 0) * 4 * parallel  # output (logits) buffer
    else:
        over = vllm_overhead_bytes(info, service, devices)
    share = 1.0 / devices
    if service.sharding and service.sharding.split_ratios:
        share = max(service.sharding.split_ratios) / sum(service.sharding.split_ratios)
    kv_share = share
    if not gguf_rt and info.head_count_kv and devices > 1 and not info.is_mla:
        kv_share = max(share, 1.0 / min(devices, max(info.head_count_kv)))  # KV heads replicate when tp > heads
    per_device = int(weights * share + kv * kv_share + over)
    return (
        per_device,
        {
            "weights": weights,
            "kv_cache": int(kv * kv_share * devices) if devices > 1 else kv,
            "overhead": over * devices,
        },
        host,
    )


def fit_service(
    model, service, *, product: str | None = None, memory_gib: float | None = None, info: ModelInfo | None = None
) -> FitReport:
    """Does `model` served as `service` fit one replica's devices? (see module docstring)

    llama.cpp/Ollama allocate `contextSize` cells for all slots up front: the verdict is on all of it.
    Paged-pool runtimes (vLLM, SGLang, TGI) give what their budget leaves after weights and overhead to
    a KV pool and need only one `contextSize` sequence to fit it: see `_pool_report`."""
    info = info or _spec_info(model)
    devices = max(service.device_count, 1)
    capacity, acc_name = _device_capacity(service, product, memory_gib)
    gguf_rt = service.runtime in GGUF_RUNTIMES
    if capacity is not None and not gguf_rt:
        capacity = int(capacity * (service.engine.gpu_memory_utilization or GPU_MEMORY_UTILIZATION))
    context = service.context_size or info.context_length or model.context_window
    missing = (
        [] if info.total_bytes else ["weights size (sizeGiB, or totalParametersB + quantization, or a reachable file)"]
    )
    missing += info.missing_for_kv()
    if not context:
        missing.append("contextSize (or the model's context window)")
    if capacity is None:
        missing.append("accelerator.product (or memory_gib)")
    parallel = service.parallel_slots
    if missing or capacity is None or not context:  # (the last two are in `missing` already)
        return FitReport(
            "unknown",
            devices,
            capacity or 0,
            0,
            {"weights": info.total_bytes or 0, "kv_cache": 0, "overhead": 0},
            0,
            None,
            None,
            missing,
            context=context,
            parallel=parallel,
            accelerator=acc_name,
            runtime=service.runtime,
        )
    kv_k, kv_v = service.kv_cache_type_k, service.kv_cache_type_v or service.kv_cache_type_k
    fits = lambda c, p: _need(info, service, c, p, devices, kv_k, kv_v)[0] <= capacity  # noqa: E731
    limit = max(info.context_length or context, context)
    if not gguf_rt:
        return _pool_report(info, model, service, product, memory_gib, capacity, acc_name, context, limit, fits)
    need, breakdown, host = _need(info, service, context, parallel, devices, kv_k, kv_v)
    headroom = capacity - need
    verdict: Verdict = "does-not-fit" if headroom < 0 else ("marginal" if headroom < MARGIN * capacity else "fits")
    max_ctx = _largest(lambda c: fits(c, parallel), KV_PAD, limit) if fits(KV_PAD, parallel) else 0
    per_slot = max(context // parallel, 1)
    max_par = max_ctx // per_slot if max_ctx else 0
    return _report(
        (info, model, service, product, memory_gib, kv_k),
        (verdict, devices, capacity, need, breakdown, headroom, max_ctx, max_par, host, context, parallel, acc_name),
    )


def _pool_report(info, model, service, product, memory_gib, capacity, acc_name, context, limit, fits) -> FitReport:
    """A paged KV pool (paged_pool.py): the start-up need is one contextSize sequence, `max_parallel` the
    full-context sequences the pool holds, `max_context` the longest one sequence can have."""
    devices, parallel = max(service.device_count, 1), service.parallel_slots
    kv_k = service.kv_cache_type_k
    need, breakdown, host = _need(info, service, context, 1, devices, kv_k, service.kv_cache_type_v or kv_k)
    base = _need(info, service, context, 0, devices, kv_k, service.kv_cache_type_v or kv_k)[0]
    headroom = capacity - need
    max_ctx = _largest(lambda c: fits(c, 1), PAGE_TOKENS, limit) if fits(PAGE_TOKENS, 1) else 0
    max_par = _largest(lambda p: fits(context, p), 1, MAX_SEQUENCES) if headroom >= 0 else 0
    verdict: Verdict = pool_verdict(need, capacity, max_par, parallel, MARGIN)
    report = _report(
        (info, model, service, product, memory_gib, kv_k),
        (verdict, devices, capacity, need, breakdown, headroom, max_ctx, max_par, host, context, parallel, acc_name),
        kv_pool_bytes=capacity - base,
    )
    if verdict != "does-not-fit" and max_par < parallel:
        all_ctx = _largest(lambda c: fits(c, parallel), PAGE_TOKENS, context) if fits(PAGE_TOKENS, parallel) else 0
        report.fixes = [f"parallelSlots <= {max_par} (the full-context sequences its KV pool holds)"]
        if all_ctx >= 1024:
            report.fixes.append(f"contextSize <= {all_ctx} (every slot at full context)")
        report.fixes.append("more devices or memory for the KV pool")
    return report


def _report(asked: tuple, figures: tuple, kv_pool_bytes: int | None = None) -> FitReport:
    """The report of a known verdict (both fit paths), with the fixes when it does not fit. `asked`:
    (info, model, service, product, memory_gib, kv_k); `figures`: FitReport's fields from `verdict`
    to `accelerator`, less `missing`."""
    info, model, service, product, memory_gib, kv_k = asked
    verdict, devices, capacity, need, breakdown, headroom, max_ctx, max_par, host, context, parallel, acc = figures
    report = FitReport(
        verdict,
        devices,
        capacity,
        need,
        breakdown,
        headroom,
        max_ctx,
        max_par,
        [],
        host,
        context,
        parallel,
        acc,
        kv_pool_bytes=kv_pool_bytes,
        runtime=service.runtime,
    )
    if verdict == "does-not-fit":
        report.fixes = _fixes(info, model, service, product, memory_gib, max_ctx, kv_k)
    return report


def _largest(ok, lo: int, hi: int) -> int:
    """Largest x in [lo, hi] with ok(x), given ok(lo) and monotone ok."""
    if ok(hi):
        return hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
    return lo


def _eight_bit_kv_type(runtime_name: str) -> str | None:
    """The runtime's own 8-bit KV cache type (the registry lists what each runtime accepts)."""
    from ..runtimes import RUNTIMES

    rt = RUNTIMES.get(runtime_name)
    return next(
        (t for t in ((rt.kv_cache_types or ()) if rt else ()) if 1.0 <= KV_BYTES.get(t.lower(), 0) <= 34 / 32), None
    )


def _fixes(info, model, service, product, memory_gib, max_ctx, kv_k) -> list[str]:
    fixes = []
    if max_ctx and max_ctx >= 1024:
        fixes.append(f"contextSize <= {max_ctx}")
    if service.device_count and service.accelerator.vendor not in ("cpu", "metal"):
        for n in (2, 4, 8, 16):
            if n <= service.device_count:
                continue
            acc = service.accelerator.model_copy(update={"count": n})
            bigger = service.model_copy(
                update={
                    "accelerator": acc,
                    "sharding": None
                    if service.sharding is None
                    else service.sharding.model_copy(update={"split_ratios": None}),
                }
            )
            if fit_service(model, bigger, product=product, memory_gib=memory_gib, info=info).verdict != "does-not-fit":
                fixes.append(f"accelerator.count: {n}")
                break
    quantized = _eight_bit_kv_type(service.runtime)
    if quantized and (kv_k or "f16") in ("f16", "f32", "bf16", "auto"):
        q = service.model_copy(update={"kv_cache_type_k": quantized, "kv_cache_type_v": quantized})
        if fit_service(model, q, product=product, memory_gib=memory_gib, info=info).verdict != "does-not-fit":
            fixes.append(f"kvCacheTypeK/V: {quantized}")
    if info.is_moe and service.runtime == "llamacpp" and not service.moe_cpu_offload:
        fixes.append("moeCpuOffload: {allExperts: true} (experts in host RAM)")
    return fixes or ["a larger accelerator or a smaller quantization"]


__all__ = [
    "GGUF_RUNTIMES",
    "FitReport",
    "fit_service",
    "kv_cache_bytes",
    "llamacpp_compute_bytes",
    "recurrent_state_bytes",
]
