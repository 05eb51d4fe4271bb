"""The runtime registry: one module per runtime, one line here. Nothing else names runtimes.

The spec validates `runtime` against this table when a config is read (so a runtime added here is
accepted everywhere), the planners read their entries, and the metal-agent finds its native
commands here by their process name (`native_runtime`).
"""

from __future__ import annotations

from ..hardware import VENDORS, vendor
from . import generic, llamacpp, mlx, ollama, sglang, tgi, vllm
from .base import BASE_ENV, NativeRun, Runtime, RuntimeMetrics, ServeContext

RUNTIMES: dict[str, Runtime] = {
    r.name: r
    for r in (
        llamacpp.RUNTIME,
        vllm.RUNTIME,
        tgi.RUNTIME,
        sglang.RUNTIME,
        ollama.RUNTIME,
        mlx.RUNTIME,
        generic.RUNTIME,
    )
}

DEFAULT_RUNTIME = "llamacpp"  # a service that names no runtime gets this one


def runtime(name: str) -> Runtime:
    try:
        return RUNTIMES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown runtime {name!r}; valid: {', '.join(RUNTIMES)}") from None


def native_runtimes() -> dict[str, Runtime]:
    """Process name ("llama-server") -> the runtime the metal-agent runs under it, read now."""
    return {rt.native.name: rt for rt in RUNTIMES.values() if rt.native}


def native_runtime(name: str) -> NativeRun:
    """The native entry for a desired state's `runtime` (a process name); ValueError names the valid ones."""
    found = native_runtimes().get(name)
    if found is None or found.native is None:
        raise ValueError(f"unknown native runtime {name!r}; valid: {', '.join(native_runtimes()) or 'none'}")
    return found.native


def supports(rt: Runtime, vendor_name: str, opted_in: bool = False) -> bool:
    profile = vendor(vendor_name)
    if not profile.schedulable:
        return rt.native is not None
    if profile.image_flavour in rt.opt_in_flavours and not opted_in:
        return False
    return rt.needs_image or profile.image_flavour in rt.images


def check_runtime_vendor(runtime_name: str, vendor_name: str, opted_in: bool = False) -> None:
    """Refuse unsupported pairs with the valid choices on both axes."""
    rt = runtime(runtime_name)
    if supports(rt, vendor_name, opted_in):
        return
    flavour = vendor(vendor_name).image_flavour
    if flavour in rt.opt_in_flavours:
        raise ValueError(
            f"runtime {runtime_name} on {vendor_name} is opt-in: set {rt.opt_in_flavours[flavour]}: true "
            "(it is much slower than llama.cpp there)"
        )
    runtimes = [n for n, r in RUNTIMES.items() if supports(r, vendor_name)]
    vendors = [v for v in VENDORS if supports(rt, v, True)]
    raise ValueError(
        f"runtime {runtime_name} does not run on {vendor_name}: valid runtimes for {vendor_name}: "
        f"{', '.join(runtimes)}; vendors {runtime_name} runs on: {', '.join(vendors)}"
    )


def check_kv_cache_type(runtime_name: str, kv_type: str | None) -> None:
    rt = runtime(runtime_name)
    if kv_type is None or rt.kv_cache_types is None or kv_type in rt.kv_cache_types:
        return
    if not rt.kv_cache_types:
        raise ValueError(f"runtime {runtime_name} has no KV cache type option; remove kvCacheTypeK/kvCacheTypeV")
    raise ValueError(
        f"KV cache type {kv_type!r} is not one {runtime_name} knows; valid: {', '.join(rt.kv_cache_types)}"
    )


__all__ = [
    "BASE_ENV",
    "DEFAULT_RUNTIME",
    "RUNTIMES",
    "NativeRun",
    "Runtime",
    "RuntimeMetrics",
    "ServeContext",
    "check_kv_cache_type",
    "check_runtime_vendor",
    "native_runtime",
    "native_runtimes",
    "runtime",
    "supports",
]
