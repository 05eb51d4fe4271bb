"""Safetensors headers + config.json (Hugging Face layout): weight bytes by dtype and the KV facts.

Why: vLLM/SGLang/TGI serve safetensors repos; their weight size is exact from the headers (an
8-byte length + a JSON table of tensors) and the attention shape is in config.json. Only these
few KiB are read, locally or with Range requests.
"""
from __future__ import annotations

import json
import struct

from .info import ModelInfo

MAX_HEADER = 100 << 20
DTYPE_BYTES = {"F64": 8, "I64": 8, "U64": 8, "F32": 4, "I32": 4, "U32": 4, "F16": 2, "BF16": 2, "I16": 2,
               "U16": 2, "F8_E4M3": 1, "F8_E5M2": 1, "F8_E8M0": 1, "I8": 1, "U8": 1, "BOOL": 1, "F4": 0.5,
               "F6_E2M3": 0.75, "F6_E3M2": 0.75}


def parse_safetensors_header(read) -> dict:
    """`read(n)` gives the file's first bytes; returns the JSON header (tensor name -> info)."""
    raw = read(8)
    if len(raw) != 8:
        raise ValueError("truncated safetensors file: no header length")
    (n,) = struct.unpack("<Q", raw)
    if n > MAX_HEADER:
        raise ValueError(f"absurd safetensors header length {n} (limit {MAX_HEADER})")
    body = read(n)
    if len(body) != n:
        raise ValueError(f"truncated safetensors header: wanted {n} bytes, got {len(body)}")
    try:
        return json.loads(body)
    except ValueError as exc:
        raise ValueError(f"safetensors header is not JSON: {exc}") from None


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
