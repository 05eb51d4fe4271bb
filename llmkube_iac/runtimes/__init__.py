"""The runtime registry: one module per runtime, one line here. Nothing else names runtimes."""
from __future__ import annotations

from ..hardware import VENDORS, vendor
from . import generic, llamacpp, ollama, sglang, tgi, vllm
from .base import BASE_ENV, Runtime, ServeContext

RUNTIMES: dict[str, Runtime] = {r.name: r for r in (
    llamacpp.RUNTIME, vllm.RUNTIME, tgi.RUNTIME, sglang.RUNTIME, ollama.RUNTIME, generic.RUNTIME,
)}


def runtime(name: str) -> Runtime:
    try:
        return RUNTIMES[name]
    except KeyError:
        raise ValueError(f"unknown runtime {name!r}; valid: {', '.join(RUNTIMES)}") from None


def supports(rt: Runtime, vendor_name: str, opted_in: bool = False) -> bool:
    profile = vendor(vendor_name)
    if not profile.schedulable:
        return rt.metal_native
    if profile.image_flavour in rt.opt_in_flavours and not opted_in:
        return False
    return profile.image_flavour in rt.images


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
    if kv_type is not None and rt.kv_cache_types and kv_type not in rt.kv_cache_types:
        raise ValueError(f"KV cache type {kv_type!r} is not one {runtime_name} knows; valid: {', '.join(rt.kv_cache_types)}")


__all__ = ["BASE_ENV", "RUNTIMES", "Runtime", "ServeContext", "check_kv_cache_type", "check_runtime_vendor",
           "runtime", "supports"]
