"""Safetensors headers + config.json (Hugging Face layout): weight bytes by dtype and the KV facts.

Why: vLLM/SGLang/TGI serve safetensors repos; their weight size is exact from the headers (an
8-byte length + a JSON table of tensors) and the attention shape is in config.json. Only these
few KiB are read, locally or with Range requests. The header length is checked against what the
file holds before it is read, and every tensor entry against the file's extent, so a forged
header is a clear error, never an allocation of the announced size or a nonsense parameter count.
"""

from __future__ import annotations

import json
import struct

from .info import ModelInfo

MAX_HEADER = 100 << 20
DTYPE_BYTES = {
    "F64": 8,
    "I64": 8,
    "U64": 8,
    "F32": 4,
    "I32": 4,
    "U32": 4,
    "F16": 2,
    "BF16": 2,
    "I16": 2,
    "U16": 2,
    "F8_E4M3": 1,
    "F8_E5M2": 1,
    "F8_E8M0": 1,
    "I8": 1,
    "U8": 1,
    "BOOL": 1,
    "F4": 0.5,
    "F6_E2M3": 0.75,
    "F6_E3M2": 0.75,
}


MAX_DIM = 1 << 53
MAX_LAYERS = 1 << 16
MAX_CONFIG = 8 << 20  # config.json bytes


def read_config(path) -> dict:
    """A local config.json, bounded in size and nesting; ValueError when it is not a JSON object."""
    with open(path, "rb") as fh:
        data = fh.read(MAX_CONFIG + 1)
    if len(data) > MAX_CONFIG:
        raise ValueError(f"{path}: larger than {MAX_CONFIG >> 20} MiB; not a model config.json")
    try:
        config = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"{path}: not JSON: {str(exc)[:200] or 'nested too deeply'}") from None
    if not isinstance(config, dict):
        raise ValueError(f"{path}: not a JSON object")
    return config


def parse_safetensors_header(read, size: int | None = None) -> dict:
    """`read(n)` gives the file's first bytes (`size`: the file's length, when known); returns the
    JSON header (tensor name -> info), checked: each tensor has a dtype, a shape of non-negative
    integers and data_offsets inside the file."""
    raw = read(8)
    if len(raw) != 8:
        raise ValueError("truncated safetensors file: no header length")
    (n,) = struct.unpack("<Q", raw)
    if n > MAX_HEADER:
        raise ValueError(f"absurd safetensors header length {n} (limit {MAX_HEADER})")
    if size is not None and n > size - 8:
        raise ValueError(f"safetensors header length {n} exceeds the file ({size} bytes)")
    body = read(n)
    if len(body) != n:
        raise ValueError(f"truncated safetensors header: wanted {n} bytes, got {len(body)}")
    try:
        header = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"safetensors header is not JSON: {str(exc)[:200] or 'nested too deeply'}") from None
    _check(header, None if size is None else size - 8 - n)
    return header


def _check(header, data_bytes: int | None) -> None:
    if not isinstance(header, dict):
        raise ValueError("safetensors header is not a JSON object of tensors")
    for name, t in header.items():
        if name == "__metadata__":
            continue
        where = f"safetensors tensor {name[:80]!r}"
        if not isinstance(t, dict) or not isinstance(t.get("dtype"), str):
            raise ValueError(f"{where}: needs a dtype, a shape and data_offsets")
        shape, offsets = t.get("shape", []), t.get("data_offsets", [0, 0])
        if (
            not isinstance(shape, list)
            or len(shape) > 16
            or not all(type(d) is int and 0 <= d <= MAX_DIM for d in shape)
        ):
            raise ValueError(f"{where}: shape must be a list of at most 16 non-negative integers")
        if not (
            isinstance(offsets, list)
            and len(offsets) == 2
            and all(type(o) is int for o in offsets)
            and 0 <= offsets[0] <= offsets[1]
            and (data_bytes is None or offsets[1] <= data_bytes)
        ):
            raise ValueError(f"{where}: data_offsets {str(offsets)[:60]} do not lie inside the file's data")


def add_tensors(info: ModelInfo, header: dict) -> None:
    """Accumulate parameter count and bytes per dtype (and routed-expert bytes) into `info`."""
    for name, t in header.items():
        if name == "__metadata__" or not isinstance(t, dict):
            continue
        n = 1
        for d in t.get("shape", []):
            n *= int(d)
        begin, end = t.get("data_offsets", [0, 0])
        nbytes = int(end) - int(begin)
        info.parameter_count = (info.parameter_count or 0) + n
        info.total_bytes = (info.total_bytes or 0) + nbytes
        info.dtype_bytes[t.get("dtype", "?")] = info.dtype_bytes.get(t.get("dtype", "?"), 0) + nbytes
        if ".experts." in name and "shared" not in name:
            info.expert_bytes = (info.expert_bytes or 0) + nbytes


def apply_config(info: ModelInfo, config: dict) -> None:
    """config.json facts; multimodal configs keep the language model in `text_config`."""
    c = config.get("text_config") or config.get("language_config") or config
    g = lambda *keys: next((c[k] for k in keys if c.get(k) is not None), None)  # noqa: E731
    info.architecture = info.architecture or g("model_type") or config.get("model_type")
    info.block_count = g("num_hidden_layers", "n_layer", "num_layers")
    if info.block_count is not None and (type(info.block_count) is not int or not 0 <= info.block_count <= MAX_LAYERS):
        raise ValueError(
            f"config.json num_hidden_layers {str(info.block_count)[:40]} is not a layer count (at most {MAX_LAYERS})"
        )
    info.embedding_length = g("hidden_size", "d_model", "n_embd")
    info.feed_forward_length = g("intermediate_size", "ffn_dim")
    info.head_count = g("num_attention_heads", "n_head")
    kv = g("num_key_value_heads", "num_kv_heads") or info.head_count
    if info.block_count and kv:
        info.head_count_kv = [int(kv)] * int(info.block_count)
    head_dim = g("head_dim")
    if head_dim:
        info.key_length = info.value_length = int(head_dim)
    info.context_length = g("max_position_embeddings", "n_positions", "max_sequence_length")
    info.vocab_size = g("vocab_size")
    info.expert_count = g("num_local_experts", "num_experts", "n_routed_experts", "moe_num_experts")
    info.expert_used_count = g("num_experts_per_tok", "moe_topk", "num_experts_per_token")
    info.kv_lora_rank = g("kv_lora_rank")
    if info.kv_lora_rank:
        info.rope_dim = g("qk_rope_head_dim")
    window = g("sliding_window") if g("use_sliding_window") is not False else None
    info.sliding_window = window
    if window and info.block_count:
        types = g("layer_types")
        if isinstance(types, list):
            info.swa_layers = [t in ("sliding_attention", "sliding_window") for t in types][: info.block_count]
        elif pattern := g("sliding_window_pattern"):
            from .info import swa_layers_from_pattern

            info.swa_layers = swa_layers_from_pattern(info.block_count, int(pattern))
        elif g("max_window_layers") is None:
            info.swa_layers = [True] * info.block_count  # Mistral-style: every layer slides
    q = config.get("quantization_config") or c.get("quantization_config")
    if q:
        info.quantization_config = q
        info.file_type = str(q.get("quant_method") or q.get("format") or "quantized").upper()
    elif not info.file_type:
        dt = g("torch_dtype", "dtype") or config.get("torch_dtype")
        info.file_type = {"bfloat16": "BF16", "float16": "F16", "float32": "F32"}.get(str(dt), dt)
