"""GGUF metadata -> ModelInfo: which header keys mean what, per architecture, and the file-level entry point.

Why apart from the byte reader (gguf_reader.py): the reader's job is bounds (any stream, any forged count,
bounded time and memory); this module's is meaning (llama.cpp's key names, per-layer lists, sliding-window
and hybrid/recurrent layouts, MoE expert bytes, what llama.cpp keeps in host memory), and it changes with
every new architecture while the reader does not. Forged types under known keys are refused here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .gguf_reader import (
    GGML_TYPES,
    MAX_STRINGS,
    GGUFError,
    _Skipped,
    read_header,
    tensor_nbytes,
)
from .info import SWA_PATTERN_DEFAULTS, ModelInfo, swa_layers_from_pattern

MAX_LAYERS = 1 << 16  # per-layer facts are lists this long; real models have at most a few hundred layers
# general.file_type -> label (llama.h LLAMA_FTYPE_*)
FILE_TYPES = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    7: "Q8_0",
    8: "Q5_0",
    9: "Q5_1",
    10: "Q2_K",
    11: "Q3_K_S",
    12: "Q3_K_M",
    13: "Q3_K_L",
    14: "Q4_K_S",
    15: "Q4_K_M",
    16: "Q5_K_S",
    17: "Q5_K_M",
    18: "Q6_K",
    19: "IQ2_XXS",
    20: "IQ2_XS",
    21: "Q2_K_S",
    22: "IQ3_XS",
    23: "IQ3_XXS",
    24: "IQ1_S",
    25: "IQ4_NL",
    26: "IQ3_S",
    27: "IQ3_M",
    28: "IQ2_S",
    29: "IQ2_M",
    30: "IQ4_XS",
    31: "IQ1_M",
    32: "BF16",
    36: "TQ1_0",
    37: "TQ2_0",
    38: "MXFP4_MOE",
}


def _per_layer(value, n_layer: int) -> list[int] | None:
    if value is None or isinstance(value, _Skipped):
        return None
    if isinstance(value, list):
        return [int(v) for v in value][:n_layer]
    return [int(value)] * n_layer


# `<arch>.<key>` metadata the reader computes with: an integer, or a per-layer list of integers/booleans
NUMERIC_KEYS = (
    "block_count",
    "context_length",
    "embedding_length",
    "feed_forward_length",
    "attention.key_length",
    "attention.value_length",
    "expert_count",
    "expert_used_count",
    "attention.sliding_window",
    "attention.kv_lora_rank",
    "rope.dimension_count",
    "attention.head_count",
    "attention.head_count_kv",
    "attention.sliding_window_pattern",
    "attention.recurrent_layers",
    "full_attention_interval",
    "ssm.conv_kernel",
    "ssm.inner_size",
    "ssm.state_size",
    "ssm.group_count",
    "attention.key_length_swa",
    "attention.value_length_swa",
    "attention.shared_kv_layers",
    "embedding_length_per_layer_input",
    "attention.indexer.key_length",
    "attention.compress_ratios",
    "vocab_size",
)


def _check_types(meta: dict, arch) -> None:
    """A forged header can put any type under any key: refuse the ones the reader would compute with."""
    if arch is not None and not isinstance(arch, str):
        raise GGUFError(f"general.architecture is a {type(arch).__name__}, not a name")
    for key in NUMERIC_KEYS:
        value = meta.get(f"{arch}.{key}")
        ok = (
            value is None
            or isinstance(value, int)
            or (isinstance(value, list) and all(isinstance(v, (int, bool)) for v in value))
        )
        if not ok:
            raise GGUFError(
                f"metadata {arch}.{key} is a {type(value).__name__}; an integer (or one per layer) was expected"
            )
    tokens = meta.get("tokenizer.ggml.tokens")
    if tokens is not None and not isinstance(tokens, (list, _Skipped)):
        raise GGUFError(f"metadata tokenizer.ggml.tokens is a {type(tokens).__name__}, not an array")
    if meta.get("general.file_type") is not None and not isinstance(meta["general.file_type"], int):
        raise GGUFError("metadata general.file_type is not an integer")
    for key in ("general.name", "general.license"):
        if not isinstance(meta.get(key), (str, type(None))):
            meta[key] = None  # descriptive only


def info_from_header(meta: dict, tensors: list, source: str = "", file_size: int | None = None) -> ModelInfo:
    """Turn raw GGUF metadata + tensor infos into ModelInfo (parameters and bytes from shapes)."""
    arch = meta.get("general.architecture")
    _check_types(meta, arch)
    a: Callable[[str], Any] = lambda key: meta.get(f"{arch}.{key}")  # noqa: E731
    n_layer = a("block_count")
    if n_layer is not None and (
        not isinstance(n_layer, int) or isinstance(n_layer, bool) or not 0 <= n_layer <= MAX_LAYERS
    ):
        raise GGUFError(f"{arch}.block_count {str(n_layer)[:40]} is not a layer count (at most {MAX_LAYERS})")
    total = params = experts = 0
    per_layer_exp: dict[int, int] = {}
    for name, dims, ttype, _ in tensors:
        nb = tensor_nbytes(dims, ttype)
        n = 1
        for d in dims:
            n *= d
        total += nb
        params += n
        if "_exps" in name:
            experts += nb
            if name.startswith("blk."):
                layer = int(name.split(".")[1]) if name.split(".")[1].isdigit() else -1
                per_layer_exp[layer] = per_layer_exp.get(layer, 0) + nb
    info = ModelInfo(
        source=source,
        format="gguf",
        architecture=arch,
        name=meta.get("general.name"),
        block_count=n_layer,
        context_length=a("context_length"),
        embedding_length=a("embedding_length"),
        feed_forward_length=a("feed_forward_length")
        if not isinstance(a("feed_forward_length"), list)
        else max(a("feed_forward_length")),
        key_length=a("attention.key_length"),
        value_length=a("attention.value_length"),
        expert_count=a("expert_count"),
        expert_used_count=a("expert_used_count"),
        sliding_window=a("attention.sliding_window"),
        kv_lora_rank=a("attention.kv_lora_rank"),
        rope_dim=a("rope.dimension_count"),
        file_size=file_size,
        parameter_count=params,
        total_bytes=total,
        expert_bytes=experts or None,
        header_bytes=meta.get("__header_bytes__"),
        license=meta.get("general.license"),
        tensors=list(tensors),
    )
    hc = a("attention.head_count")
    info.head_count = max(hc) if isinstance(hc, list) and hc else hc
    if isinstance(n_layer, int) and n_layer > 0:
        info.head_count_kv = _per_layer(
            a("attention.head_count_kv") if a("attention.head_count_kv") is not None else hc, n_layer
        )
        if per_layer_exp:
            info.expert_bytes_per_layer = [per_layer_exp.get(i, 0) for i in range(n_layer)]
        pattern = a("attention.sliding_window_pattern")
        if info.sliding_window:
            if isinstance(pattern, list):
                info.swa_layers = [bool(p) for p in pattern][:n_layer]
            elif isinstance(pattern, int):
                info.swa_layers = swa_layers_from_pattern(n_layer, pattern)
            elif arch in SWA_PATTERN_DEFAULTS:
                info.swa_layers = swa_layers_from_pattern(n_layer, SWA_PATTERN_DEFAULTS[arch])
    _hybrid_and_sparse(info, arch, a, n_layer, tensors)
    tokens = meta.get("tokenizer.ggml.tokens")
    info.vocab_size = a("vocab_size") or (int(tokens) if isinstance(tokens, _Skipped) else len(tokens or []) or None)
    ft = meta.get("general.file_type")
    info.file_type = FILE_TYPES.get(ft, str(ft)) if ft is not None else None
    if info.is_moe and info.expert_count and info.expert_used_count and info.expert_bytes:
        share = info.expert_used_count / info.expert_count
        info.active_parameter_count = int(params - (params * experts / total) * (1 - share)) if total else None
    return info


# hybrid architectures whose GGUF may carry only `full_attention_interval` (llama.cpp defaults it to 4)
HYBRID_INTERVAL_ARCHS = ("qwen3next", "qwen35", "qwen35moe")


def _hybrid_and_sparse(info: ModelInfo, arch, a, n_layer, tensors) -> None:
    """Recurrent layers (Gated DeltaNet), Gemma 4's per-layer facts, sparse-attention indexer keys."""
    if not isinstance(n_layer, int) or n_layer <= 0:
        return
    recr = a("attention.recurrent_layers")
    if isinstance(recr, list):
        info.recurrent_layers = [bool(r) for r in recr][:n_layer]
    elif arch in HYBRID_INTERVAL_ARCHS:
        interval = a("full_attention_interval") or 4
        info.recurrent_layers = [(il + 1) % interval != 0 for il in range(n_layer)]
    if info.recurrent_layers is not None:
        info.ssm_conv_kernel, info.ssm_inner_size = a("ssm.conv_kernel"), a("ssm.inner_size")
        info.ssm_state_size, info.ssm_group_count = a("ssm.state_size"), a("ssm.group_count")
    info.key_length_swa, info.value_length_swa = a("attention.key_length_swa"), a("attention.value_length_swa")
    info.kv_shared_layers = a("attention.shared_kv_layers") or None
    info.embedding_length_per_layer = a("embedding_length_per_layer_input") or None
    info.indexer_key_length = a("attention.indexer.key_length")
    ratios = a("attention.compress_ratios")
    info.compress_ratios = [int(r) for r in ratios][:n_layer] if isinstance(ratios, list) else None
    sizes = {name: tensor_nbytes(dims, ttype) for name, dims, ttype, _ in tensors}
    # llama.cpp keeps the input layer on the CPU: embeddings read by row never go to a GPU (a tied
    # output matrix is duplicated onto the device instead, so token_embd stays counted there)
    host = sizes.get("per_layer_token_embd.weight", 0)
    if "output.weight" in sizes:
        host += sizes.get("token_embd.weight", 0)
    info.host_only_bytes = host or None


def read_gguf_file(path: str, source: str | None = None) -> ModelInfo:
    """Header facts of a local GGUF file."""
    import os

    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        meta, tensors, _ = read_header(fh.read, size)
    return info_from_header(meta, tensors, source or path, size)


__all__ = [
    "FILE_TYPES",
    "GGML_TYPES",
    "MAX_STRINGS",
    "GGUFError",
    "info_from_header",
    "read_gguf_file",
    "read_header",
    "tensor_nbytes",
]
