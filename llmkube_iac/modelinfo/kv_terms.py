"""The memory terms of the fit estimator: bytes of the KV cache, recurrent state and llama.cpp's compute buffer.

Why its own module: these are the exact per-layer byte counts that follow llama.cpp's (and vLLM's paged)
allocation rules, checked against llama.cpp by the `llamacpp` test suite; fit.py only adds them up per
device and judges the result, and other planners (cost, the fit-table benchmark) use the terms alone.
Stdlib only (the metal-agent imports it).
"""

from __future__ import annotations

from .info import ModelInfo
from .paged_pool import PAGE_TOKENS

KV_PAD = 256  # llama.cpp pads KV cells to 256
LLAMA_UBATCH = 512
# bytes per element of a KV cache type (llama.cpp block sizes; vLLM fp8 = 1 byte)
KV_BYTES = {
    "f32": 4.0,
    "f16": 2.0,
    "bf16": 2.0,
    "q8_0": 34 / 32,
    "q4_0": 18 / 32,
    "q4_1": 20 / 32,
    "iq4_nl": 18 / 32,
    "q5_0": 22 / 32,
    "q5_1": 24 / 32,
    "auto": 2.0,
    "fp8": 1.0,
    "fp8_e4m3": 1.0,
    "fp8_e5m2": 1.0,
    "fp8_e4m3fn": 1.0,
    "fp8_inc": 1.0,
}
GGUF_RUNTIMES = ("llamacpp", "ollama")


def _pad(n: int, to: int) -> int:
    return -(-n // to) * to


def kv_elem_bytes(kv_type: str | None, runtime: str) -> float:
    if kv_type is None:
        return 2.0
    if kv_type.lower() not in KV_BYTES:
        raise ValueError(f"unknown KV cache type {kv_type!r}; valid: {', '.join(KV_BYTES)}")
    return KV_BYTES[kv_type.lower()]


def kv_cache_bytes(
    info: ModelInfo,
    context: int,
    parallel: int = 1,
    type_k: str | None = None,
    type_v: str | None = None,
    runtime: str = "llamacpp",
    ubatch: int = LLAMA_UBATCH,
) -> int:
    """KV bytes for `context`: llama.cpp = one shared cache of `context` cells (slots split it);
    vLLM-style = `parallel` sequences of `context` tokens (`ubatch` is then max_num_batched_tokens).
    SWA layers hold window cells only; layers
    without KV (recurrent, Gemma 4's shared tail) hold none; MLA holds the compressed latent (llama.cpp:
    K only, V is a view of it); sparse attention adds its indexer keys; DeepSeek-V4 keeps a small
    window of raw K plus K compressed 4x (with indexer keys) or 128x. Recurrent state: see
    `recurrent_state_bytes`."""
    bk, bv = kv_elem_bytes(type_k, runtime), kv_elem_bytes(type_v or type_k, runtime)
    gguf_rt = runtime in GGUF_RUNTIMES
    n_layer = info.block_count or 0
    if gguf_rt:
        full = _pad(context, KV_PAD)
        swa = min(full, _pad((info.sliding_window or 0) * parallel + ubatch, KV_PAD))
    else:  # vLLM (kv_cache_interface.py): whole blocks per sequence; a sliding layer holds at most
        # window - 1 + max_num_batched_tokens tokens (never more than the context) plus one block
        full = _pad(context, PAGE_TOKENS) * parallel
        window = info.sliding_window
        swa = (_pad(min(window - 1 + ubatch, context), PAGE_TOKENS) + PAGE_TOKENS) * parallel if window else full
    if info.compress_ratios:
        return _dsv4_kv_bytes(info, context, parallel, bk, swa if gguf_rt else full, gguf_rt)
    total = 0.0
    for il in range(n_layer):
        if not info.has_kv(il):
            continue
        cells = swa if info.is_swa(il) else full
        if info.is_mla:
            latent = (info.kv_lora_rank or 0) + (info.rope_dim or 0)
            total += cells * latent * bk
        else:
            n_kv = info.head_count_kv[il] if info.head_count_kv and il < len(info.head_count_kv) else 0
            dk, dv = info.head_dims(il)
            total += cells * n_kv * (dk * bk + dv * bv)
        if info.indexer_key_length:
            total += cells * info.indexer_key_length * bk
    return int(total)


def _dsv4_kv_bytes(info: ModelInfo, context: int, parallel: int, bk: float, window_cells: int, gguf_rt: bool) -> int:
    """DeepSeek-V4 (llama.cpp llama-kv-cache-dsv4.cpp): per layer a window of raw K, and per CSA
    layer (ratio 4) K compressed 4x plus lightning-indexer keys, per HCA layer (128) K compressed 128x;
    one single-head K of head_dim per cell. Compressor states are F32 ring buffers per sequence."""
    head = info.head_dim_k or 0
    idx = info.indexer_key_length or 0
    streams = max(parallel, 1) if gguf_rt else 1
    seq = _pad(max(context // streams, 1), KV_PAD) if gguf_rt else context
    if gguf_rt:
        comp = lambda r: _pad(max(1, -(-seq // r)), KV_PAD)  # noqa: E731
    else:
        comp = lambda r: -(-seq // r) * parallel  # noqa: E731
    total = 0.0
    for il in range(info.block_count or 0):
        ratio = info.compress_ratios[il] if info.compress_ratios and il < len(info.compress_ratios) else 0
        total += window_cells * head * bk
        if ratio == 4:
            total += comp(4) * (head + idx) * bk * streams
            total += streams * 4 * 2 * 8 * (2 * head + 2 * idx)  # CSA + indexer compressor state (kv, score)
        elif ratio == 128:
            total += comp(128) * head * bk * streams
            total += streams * 4 * 2 * 128 * head
    return int(total)


def recurrent_state_bytes(info: ModelInfo, parallel: int = 1) -> int:
    """Fixed per-sequence state of linear-attention layers (llama.cpp's RS buffer: one F32 cell per
    sequence, whatever the context)."""
    return info.recurrent_state_bytes * max(parallel, 0)


def llamacpp_compute_bytes(
    info: ModelInfo, context: int, parallel: int = 1, flash_attn: bool = True, ubatch: int = LLAMA_UBATCH
) -> int:
    """llama.cpp's compute buffer (graph reserve at n_ubatch): FFN/logits peak, or the KQ peak
    without flash attention; calibrated on llama.cpp's own reports (see tests/modelinfo)."""
    cells = _pad(context, KV_PAD)
    swa_cells = min(cells, _pad((info.sliding_window or 0) * parallel + ubatch, KV_PAD)) if info.swa_layers else 0
    vocab, embd = info.vocab_size or 0, info.embedding_length or 0
    ff = info.feed_forward_length or 4 * embd
    ff_eff = ff * (info.expert_used_count or 1) if info.is_moe else ff
    ffn_peak = ubatch * 4 * (vocab + embd + 3 * ff_eff + (embd if info.is_moe else 0))
    if flash_attn:
        return ffn_peak + ubatch * 2 * (cells + swa_cells)
    attn_peak = ubatch * 4 * (cells * ((info.head_count or 1) + 1) + swa_cells + vocab + 3.5 * embd)
    return int(max(ffn_peak, attn_peak))
