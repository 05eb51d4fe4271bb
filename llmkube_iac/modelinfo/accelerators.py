"""Accelerator memory table for the fit estimator (names as `accelerator.product` spells them).

Why here and not in hardware.py: hardware.py says how to *schedule* on a vendor; this says how much
memory one device of a given product has. memory_gib is what the driver reports (binary GiB);
reserved_gib is what the driver/runtime context takes before any model byte (CUDA/ROCm context).
Apple Silicon: unified memory x the fraction macOS lets the GPU wire (recommendedMaxWorkingSetSize).
bandwidth_gb_s is the peak memory bandwidth in GB/s (decimal) as published for the product; the cost
model (plan/cost.py) reads it. None where no published figure was read: the cost is then unknown,
never guessed (docs/fleet.md lists the sources).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..units import GIB


@dataclass(frozen=True)
class Accelerator:
    """One device product."""

    name: str
    vendor: str
    memory_gib: float
    aliases: tuple[str, ...] = ()
    reserved_gib: float = 0.5
    usable_fraction: float = 1.0
    bandwidth_gb_s: float | None = None

    @property
    def usable_bytes(self) -> int:
        return int((self.memory_gib * self.usable_fraction - self.reserved_gib) * GIB)


ACCELERATORS: tuple[Accelerator, ...] = (
    Accelerator(
        "NVIDIA H100 80GB",
        "nvidia",
        79.65,
        ("H100", "H100-80GB", "NVIDIA H100 80GB HBM3", "H100 SXM"),
        bandwidth_gb_s=3350,
    ),
    Accelerator("NVIDIA H200", "nvidia", 140.4, ("H200", "NVIDIA H200 141GB", "H200 141GB"), bandwidth_gb_s=4800),
    Accelerator("NVIDIA B200", "nvidia", 179.06, ("B200", "NVIDIA B200 192GB"), bandwidth_gb_s=8000),
    Accelerator("NVIDIA A100 40GB", "nvidia", 40.0, ("A100-40GB", "A100 40GB", "NVIDIA A100-SXM4-40GB")),
    Accelerator(
        "NVIDIA A100 80GB",
        "nvidia",
        80.0,
        ("A100", "A100-80GB", "A100 80GB", "NVIDIA A100-SXM4-80GB"),
        bandwidth_gb_s=2000,
    ),
    Accelerator("NVIDIA L4", "nvidia", 22.49, ("L4",), bandwidth_gb_s=300),
    Accelerator("NVIDIA L40S", "nvidia", 44.99, ("L40S",)),
    Accelerator("NVIDIA GeForce RTX 4090", "nvidia", 23.99, ("RTX 4090", "4090", "RTX4090")),
    Accelerator("AMD Instinct MI300X", "amd", 192.0, ("MI300X",), bandwidth_gb_s=5300),
    Accelerator("AMD Instinct MI325X", "amd", 256.0, ("MI325X",), bandwidth_gb_s=6000),
    Accelerator("Intel Gaudi 3", "intel-gaudi", 128.0, ("Gaudi 3", "Gaudi3", "HL-325L")),
    Accelerator("Apple M2 Ultra 192GB", "metal", 192.0, ("M2 Ultra",), 0.0, 0.75, bandwidth_gb_s=800),
    Accelerator("Apple M3 Max 128GB", "metal", 128.0, ("M3 Max",), 0.0, 0.75),
    Accelerator("Apple M3 Ultra 512GB", "metal", 512.0, ("M3 Ultra",), 0.0, 0.75, bandwidth_gb_s=819),
    Accelerator("Apple M4 Max 128GB", "metal", 128.0, ("M4 Max",), 0.0, 0.75),
    Accelerator("Apple M4 Pro 64GB", "metal", 64.0, ("M4 Pro",), 0.0, 0.75),
)

APPLE_USABLE_FRACTION = 0.75


def _norm(s: str) -> str:
    return re.sub(r"[\s_\-]+", "", s.lower())


_INDEX = {_norm(alias): acc for acc in ACCELERATORS for alias in (acc.name, *acc.aliases)}


def lookup_accelerator(product: str) -> Accelerator | None:
    """Match a product name case- and space-insensitively, by name or alias; None when unknown."""
    if not product:
        return None
    return _INDEX.get(_norm(product)) or _INDEX.get(_norm(product.replace("NVIDIA", "").replace("AMD", "")))


def names() -> list[str]:
    return [a.name for a in ACCELERATORS]
