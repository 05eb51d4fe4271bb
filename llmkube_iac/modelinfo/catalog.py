"""The catalog of well-known models (catalog.json): published facts only, unknowns stay null.

Why: at plan time the weights are often unreachable (air-gapped sites, gated repos). The estimator
then works from published facts, and says which fact it lacks instead of inventing it.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from .info import ModelInfo, swa_layers_from_pattern
from .quant import bits_per_weight

# The VRAM reference table: the models the platform is built to serve. The figures benchmark prints
# them and the catalog tests require them, so the list has one owner here.
REFERENCE_TABLE: tuple[str, ...] = (
    "gemma-4-e2b",
    "gemma-4-e4b",
    "gemma-4-26b-a4b",
    "gemma-4-31b",
    "qwen3.5-4b",
    "qwen3.5-9b",
    "qwen3.5-27b",
    "qwen3.5-35b-a3b",
    "qwen3.6-27b",
    "qwen3.6-35b-a3b",
    "llama-4-scout",
    "llama-4-maverick",
    "mistral-medium-3.5",
    "mistral-large-3",
    "deepseek-v4-flash",
    "deepseek-v4-pro",
    "kimi-k2.5",
    "glm-5.1",
)


@lru_cache(maxsize=1)
def load_catalog() -> dict[str, dict]:
    data = json.loads((Path(__file__).with_name("catalog.json")).read_text())
    return {m["name"]: m for m in data["models"]}


def catalog_entry(name: str) -> dict:
    cat = load_catalog()
    key = name.lower().strip()
    if key not in cat:
        raise ValueError(f"unknown catalog model {name!r}; `llmkube-iac catalog` lists: {', '.join(sorted(cat))}")
    return cat[key]


def catalog_info(name: str, quantization: str | None = None) -> ModelInfo:
    """ModelInfo from published facts; weight bytes only when a quantization says bits per weight."""
    e = catalog_entry(name)
    layers = e.get("layers")
    info = ModelInfo(
        source=f"catalog:{e['name']}",
        format="catalog",
        architecture=e.get("architecture"),
        name=e["name"],
        block_count=layers,
        context_length=e.get("contextWindow"),
        embedding_length=e.get("hiddenSize"),
        key_length=e.get("headDim"),
        value_length=e.get("headDim"),
        expert_count=e.get("experts"),
        expert_used_count=e.get("expertsUsed"),
        sliding_window=e.get("slidingWindow"),
        kv_lora_rank=e.get("kvLoraRank"),
        rope_dim=e.get("ropeDim"),
        vocab_size=e.get("vocab"),
        license=e.get("license"),
        file_type=quantization or e.get("quantization"),
    )
    if layers and e.get("kvHeads"):
        info.head_count_kv = [int(e["kvHeads"])] * layers
    if layers and e.get("slidingWindow") and e.get("swaPattern"):
        info.swa_layers = swa_layers_from_pattern(layers, int(e["swaPattern"]))
    _newer_facts(info, e, layers)
    if e.get("totalParametersB"):
        info.parameter_count = int(e["totalParametersB"] * 1e9)
    if e.get("activeParametersB"):
        info.active_parameter_count = int(e["activeParametersB"] * 1e9)
    bpw = bits_per_weight(info.file_type)
    if bpw and info.parameter_count:
        info.total_bytes = int(info.parameter_count * bpw / 8)
    return info


def _newer_facts(info: ModelInfo, e: dict, layers: int | None) -> None:
    """Hybrid linear attention, Gemma 4's per-layer geometry, sparse-attention indexers, DeepSeek-V4."""
    if not layers:
        return
    if e.get("fullAttentionInterval"):  # Gated DeltaNet layers in between (Qwen3.5/3.6, Qwen3-Next)
        n = int(e["fullAttentionInterval"])
        info.recurrent_layers = [(il + 1) % n != 0 for il in range(layers)]
        lin = e.get("linearAttention") or {}
        k_heads, v_heads, dk, dv = (lin.get(k) for k in ("keyHeads", "valueHeads", "keyHeadDim", "valueHeadDim"))
        if k_heads and v_heads and dk and dv:
            # llama.cpp's shape (convert_hf_to_gguf): inner = v heads x v dim, state = k dim, groups = k heads
            info.ssm_inner_size, info.ssm_state_size, info.ssm_group_count = v_heads * dv, dk, k_heads
            info.ssm_conv_kernel = lin.get("convKernel")
    if e.get("headDimSwa"):
        info.key_length_swa = info.value_length_swa = int(e["headDimSwa"])
    if e.get("kvHeadsSwa") and e.get("kvHeads") and info.swa_layers:
        info.head_count_kv = [int(e["kvHeadsSwa"]) if sw else int(e["kvHeads"]) for sw in info.swa_layers]
    info.kv_shared_layers = e.get("kvSharedLayers") or None
    info.embedding_length_per_layer = e.get("perLayerEmbedding") or None
    info.indexer_key_length = e.get("indexerHeadDim")
    if e.get("compressRatios"):
        info.compress_ratios = [int(r) for r in e["compressRatios"]][:layers]
    if e.get("swaLayerTypes") and info.sliding_window:  # an explicit per-layer list wins over swaPattern
        info.swa_layers = [t == "sliding_attention" for t in e["swaLayerTypes"]][:layers]


def format_catalog() -> str:
    rows: list[tuple[str, ...]] = [
        ("name", "total B", "active B", "arch", "layers", "kvHeads", "headDim", "context", "license")
    ]
    for m in load_catalog().values():
        rows.append(
            tuple(
                "-" if m.get(k) is None else str(m.get(k))
                for k in (
                    "name",
                    "totalParametersB",
                    "activeParametersB",
                    "architecture",
                    "layers",
                    "kvHeads",
                    "headDim",
                    "contextWindow",
                    "license",
                )
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows)
