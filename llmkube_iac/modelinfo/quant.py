"""Bits per weight of common quantizations: the one table behind every weights-size estimate.

Why a table at all: without a readable header (air-gapped sites, gated repos) a model's weights
size is parameters x bits per weight. The fit verdict and the cache/memory sizing must use the same
figure, or the planner sizes a PVC for one model and the policy judges another. GGUF k-quant
averages include their block scales and the mixed tensor types of each scheme.
"""

from __future__ import annotations

BITS_PER_WEIGHT: dict[str, float] = {
    "F32": 32,
    "FP32": 32,
    "F16": 16,
    "BF16": 16,
    "FP16": 16,
    "FP8": 8,
    "INT8": 8,
    "Q8_0": 8.5,
    "Q6_K": 6.56,
    "Q5_K_M": 5.69,
    "Q5_K_S": 5.54,
    "Q4_K_M": 4.85,
    "Q4_K_S": 4.58,
    "Q4_0": 4.5,
    "IQ4_XS": 4.25,
    "Q3_K_M": 3.91,
    "Q2_K": 2.96,
    "AWQ": 4.25,
    "GPTQ": 4.25,
    "INT4": 4.25,
    "MXFP4": 4.25,
    "NVFP4": 4.5,
}


def bits_per_weight(quantization: str | None) -> float | None:
    """The table's figure for a quantization name (any case, '-' or '_'); None when unknown."""
    if not quantization:
        return None
    return BITS_PER_WEIGHT.get(quantization.upper().replace("-", "_"))
