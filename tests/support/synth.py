"""Tiny but real GGUF models, written with the `gguf` package, for tests and benchmarks.

Why: the estimator is checked against llama.cpp itself, which only loads files with a valid
architecture, tensor set and tokenizer. Three shapes cover the memory rules: llama-style GQA,
a mixture of experts (llama with experts, Mixtral layout) and sliding-window layers (gemma3); the
newer memory rules have one shape each: hybrid linear attention (qwen35: Gated DeltaNet layers with
a recurrent state, KV on every 4th layer), Gemma 4 (per-layer head sizes and KV heads, K = V on full
layers, KV shared by the tail layers, per-layer embeddings) and MLA (deepseek2: compressed latent).
Needs numpy and gguf (imported lazily; not used by the runtime paths).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SHAPES = ("llama", "moe", "gemma3", "qwen35", "gemma4", "deepseek2")
ARCH = {
    "llama": "llama",
    "moe": "llama",
    "gemma3": "gemma3",
    "qwen35": "qwen35",
    "gemma4": "gemma4",
    "deepseek2": "deepseek2",
}


@dataclass(frozen=True)
class SynthShape:
    """Hyper-parameters of a generated model (small defaults keep files at a few MB)."""

    kind: str = "llama"
    n_layer: int = 4
    n_embd: int = 256
    n_head: int = 8
    n_head_kv: int = 2
    n_ff: int = 512
    n_vocab: int = 512
    n_ctx_train: int = 8192
    n_expert: int = 4
    n_expert_used: int = 2
    sliding_window: int = 256
    weight_type: str = "F16"  # F16, F32, Q8_0, Q4_0 (Q4_0 is repacked by llama.cpp on AVX2/NEON CPUs)


def _tokenizer(w, n_vocab: int) -> None:
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{i:02X}>" for i in range(256)]
    letters = "abcdefghijklmnopqrstuvwxyz"
    i = 0
    while len(tokens) < n_vocab:
        a, b = divmod(i, 26)
        tokens.append("\u2581" + letters[b] + (letters[a % 26] * (1 + a // 26) if a else ""))
        i += 1
    tokens = tokens[:n_vocab]
    types = [2, 3, 3] + [6] * 256 + [1] * (n_vocab - 259)
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores([0.0] * 3 + [0.0] * 256 + [-float(k) for k in range(n_vocab - 259)])
    w.add_token_types(types[:n_vocab])
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)


def write_model(path: str | Path, shape: SynthShape = SynthShape(), seed: int = 0) -> Path:
    """Write one model; returns the path. Weights are random (the file is for loading, not chatting)."""
    import gguf
    import numpy as np

    if shape.kind not in SHAPES:
        raise ValueError(f"unknown synthetic shape {shape.kind!r}; valid: {', '.join(SHAPES)}")
    rng = np.random.default_rng(seed)
    arch = ARCH[shape.kind]
    path = Path(path)
    w = gguf.GGUFWriter(str(path), arch)
    s = shape
    head_dim = s.n_embd // s.n_head
    w.add_name(f"synth-{s.kind}")
    w.add_block_count(s.n_layer)
    w.add_context_length(s.n_ctx_train)
    w.add_embedding_length(s.n_embd)
    w.add_feed_forward_length(s.n_ff)
    w.add_head_count(s.n_head)
    if s.kind not in ("gemma4", "deepseek2"):  # those two write their own head geometry
        w.add_head_count_kv(s.n_head_kv)
        w.add_key_length(head_dim)
        w.add_value_length(head_dim)
        w.add_rope_dimension_count(head_dim)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_rope_freq_base(10000.0)
    if s.kind == "moe":
        w.add_expert_count(s.n_expert)
        w.add_expert_used_count(s.n_expert_used)
    if s.kind in ("gemma3", "gemma4"):
        w.add_sliding_window(s.sliding_window)
    qtype = gguf.GGMLQuantizationType[s.weight_type]
    w.add_file_type({"F32": 0, "F16": 1, "Q8_0": 7, "Q4_0": 2}[s.weight_type])
    _tokenizer(w, s.n_vocab)

    def add(name: str, *dims: int, norm: bool = False) -> None:
        # dims in GGUF order (ne0 first); numpy wants the reverse. 1-D tensors (norms, biases) stay F32
        data = (rng.standard_normal(tuple(reversed(dims))) * 0.02).astype(np.float32)
        if norm or len(dims) == 1 or qtype == gguf.GGMLQuantizationType.F32:
            w.add_tensor(name, np.ones_like(data) if norm else data)
        elif qtype == gguf.GGMLQuantizationType.F16:
            w.add_tensor(name, data.astype(np.float16))
        else:
            q = gguf.quants.quantize(data, qtype)
            w.add_tensor(name, q, raw_shape=q.shape, raw_dtype=qtype)

    add("token_embd.weight", s.n_embd, s.n_vocab)
    add("output_norm.weight", s.n_embd, norm=True)
    if s.kind not in ("gemma3", "gemma4"):
        add("output.weight", s.n_embd, s.n_vocab)
    if s.kind == "qwen35":
        _qwen35(w, add, s, arch)
    elif s.kind == "gemma4":
        _gemma4(w, add, s, arch)
    elif s.kind == "deepseek2":
        _deepseek2(w, add, s, arch)
    else:
        _classic(add, s, head_dim)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def _ffn(add, p: str, n_embd: int, n_ff: int) -> None:
    add(p + "ffn_gate.weight", n_embd, n_ff)
    add(p + "ffn_up.weight", n_embd, n_ff)
    add(p + "ffn_down.weight", n_ff, n_embd)


def _classic(add, s: SynthShape, head_dim: int) -> None:
    kv = s.n_head_kv * head_dim
    for i in range(s.n_layer):
        p = f"blk.{i}."
        add(p + "attn_norm.weight", s.n_embd, norm=True)
        add(p + "attn_q.weight", s.n_embd, s.n_embd)
        add(p + "attn_k.weight", s.n_embd, kv)
        add(p + "attn_v.weight", s.n_embd, kv)
        add(p + "attn_output.weight", s.n_embd, s.n_embd)
        add(p + "ffn_norm.weight", s.n_embd, norm=True)
        if s.kind == "gemma3":
            add(p + "attn_q_norm.weight", head_dim, norm=True)
            add(p + "attn_k_norm.weight", head_dim, norm=True)
            add(p + "post_attention_norm.weight", s.n_embd, norm=True)
            add(p + "post_ffw_norm.weight", s.n_embd, norm=True)
        if s.kind == "moe":
            add(p + "ffn_gate_inp.weight", s.n_embd, s.n_expert, norm=False)
            add(p + "ffn_gate_exps.weight", s.n_embd, s.n_ff, s.n_expert)
            add(p + "ffn_up_exps.weight", s.n_embd, s.n_ff, s.n_expert)
            add(p + "ffn_down_exps.weight", s.n_ff, s.n_embd, s.n_expert)
        else:
            _ffn(add, p, s.n_embd, s.n_ff)


# Gated DeltaNet geometry of the tiny qwen35 (Qwen3.5's ratios: value heads = 3 x key heads)
QWEN35_STATE, QWEN35_K_HEADS, QWEN35_V_HEADS, QWEN35_CONV = 32, 2, 6, 4


def _qwen35(w, add, s: SynthShape, arch: str) -> None:
    """llama.cpp models/qwen35.cpp: linear-attention layers, every 4th layer full attention with a
    gated query (Q projection twice as wide), q/k norms, post-attention norm."""
    hd = s.n_embd // s.n_head
    key_dim, value_dim = QWEN35_STATE * QWEN35_K_HEADS, QWEN35_STATE * QWEN35_V_HEADS
    w.add_uint32(f"{arch}.ssm.conv_kernel", QWEN35_CONV)
    w.add_uint32(f"{arch}.ssm.inner_size", value_dim)
    w.add_uint32(f"{arch}.ssm.state_size", QWEN35_STATE)
    w.add_uint32(f"{arch}.ssm.time_step_rank", QWEN35_V_HEADS)
    w.add_uint32(f"{arch}.ssm.group_count", QWEN35_K_HEADS)
    w.add_uint32(f"{arch}.full_attention_interval", 4)
    w.add_array(f"{arch}.rope.dimension_sections", [hd // 4 - hd // 8, hd // 8, 0, 0])
    for i in range(s.n_layer):
        p = f"blk.{i}."
        add(p + "attn_norm.weight", s.n_embd, norm=True)
        add(p + "post_attention_norm.weight", s.n_embd, norm=True)
        if (i + 1) % 4 == 0:
            add(p + "attn_q.weight", s.n_embd, 2 * hd * s.n_head)
            add(p + "attn_k.weight", s.n_embd, hd * s.n_head_kv)
            add(p + "attn_v.weight", s.n_embd, hd * s.n_head_kv)
            add(p + "attn_output.weight", hd * s.n_head, s.n_embd)
            add(p + "attn_q_norm.weight", hd, norm=True)
            add(p + "attn_k_norm.weight", hd, norm=True)
        else:
            add(p + "attn_qkv.weight", s.n_embd, 2 * key_dim + value_dim)
            add(p + "attn_gate.weight", s.n_embd, value_dim)
            add(p + "ssm_conv1d.weight", QWEN35_CONV, 2 * key_dim + value_dim)
            add(p + "ssm_dt.bias", QWEN35_V_HEADS)
            add(p + "ssm_a", QWEN35_V_HEADS)
            add(p + "ssm_beta.weight", s.n_embd, QWEN35_V_HEADS)
            add(p + "ssm_alpha.weight", s.n_embd, QWEN35_V_HEADS)
            add(p + "ssm_norm.weight", QWEN35_STATE, norm=True)
            add(p + "ssm_out.weight", value_dim, s.n_embd)
        _ffn(add, p, s.n_embd, s.n_ff)


GEMMA4_PATTERN = (True, True, True, False, True, False)  # sliding, ..., full: the tail reuses layers 2 and 3
GEMMA4_PLE = 32


def _gemma4(w, add, s: SynthShape, arch: str) -> None:
    """llama.cpp models/gemma4.cpp: sliding layers with narrower heads and more KV heads than the
    full layers, no V projection on full layers (K = V), the last 2 layers share KV, per-layer embeddings."""
    pattern = [GEMMA4_PATTERN[i % len(GEMMA4_PATTERN)] for i in range(s.n_layer)]
    hd_full, hd_swa = 2 * s.n_embd // s.n_head, s.n_embd // s.n_head
    w.add_rope_dimension_count(hd_full)
    kv_full, kv_swa = max(s.n_head_kv // 2, 1), s.n_head_kv
    w.add_array(f"{arch}.attention.sliding_window_pattern", pattern)
    w.add_array(f"{arch}.attention.head_count_kv", [kv_swa if sw else kv_full for sw in pattern])
    w.add_uint32(f"{arch}.attention.shared_kv_layers", 2)
    w.add_uint32(f"{arch}.embedding_length_per_layer_input", GEMMA4_PLE)
    w.add_key_length(hd_full)
    w.add_value_length(hd_full)
    w.add_uint32(f"{arch}.attention.key_length_swa", hd_swa)
    w.add_uint32(f"{arch}.attention.value_length_swa", hd_swa)
    w.add_uint32(f"{arch}.rope.dimension_count_swa", hd_swa)
    w.add_float32(f"{arch}.rope.freq_base_swa", 10000.0)
    add("per_layer_token_embd.weight", GEMMA4_PLE * s.n_layer, s.n_vocab)
    add("per_layer_model_proj.weight", s.n_embd, GEMMA4_PLE * s.n_layer)
    add("per_layer_proj_norm.weight", GEMMA4_PLE, norm=True)
    add("rope_freqs.weight", hd_full // 2, norm=True)
    shared_from = s.n_layer - 2
    for i, sw in enumerate(pattern):
        p = f"blk.{i}."
        hd, n_kv = (hd_swa, kv_swa) if sw else (hd_full, kv_full)
        add(p + "attn_norm.weight", s.n_embd, norm=True)
        add(p + "attn_q.weight", s.n_embd, hd * s.n_head)
        if i < shared_from:
            add(p + "attn_k.weight", s.n_embd, hd * n_kv)
            add(p + "attn_k_norm.weight", hd, norm=True)
            if sw:
                add(p + "attn_v.weight", s.n_embd, hd * n_kv)
        add(p + "attn_output.weight", hd * s.n_head, s.n_embd)
        add(p + "attn_q_norm.weight", hd, norm=True)
        add(p + "post_attention_norm.weight", s.n_embd, norm=True)
        add(p + "ffn_norm.weight", s.n_embd, norm=True)
        _ffn(add, p, s.n_embd, s.n_ff)
        add(p + "post_ffw_norm.weight", s.n_embd, norm=True)
        add(p + "inp_gate.weight", s.n_embd, GEMMA4_PLE)
        add(p + "proj.weight", GEMMA4_PLE, s.n_embd)
        add(p + "post_norm.weight", s.n_embd, norm=True)


MLA_KV_LORA, MLA_Q_LORA, MLA_ROPE, MLA_NOPE, MLA_V = 128, 96, 32, 64, 64


def _deepseek2(w, add, s: SynthShape, arch: str) -> None:
    """llama.cpp models/deepseek2.cpp with MLA: the cache holds kv_lora_rank + rope dims per token."""
    w.add_uint32(f"{arch}.attention.q_lora_rank", MLA_Q_LORA)
    w.add_uint32(f"{arch}.attention.kv_lora_rank", MLA_KV_LORA)
    w.add_uint32(f"{arch}.attention.key_length_mla", MLA_NOPE + MLA_ROPE)
    w.add_uint32(f"{arch}.attention.value_length_mla", MLA_V)
    w.add_uint32(f"{arch}.leading_dense_block_count", s.n_layer)
    w.add_uint32(f"{arch}.expert_feed_forward_length", s.n_ff)
    w.add_uint32(f"{arch}.expert_shared_count", 0)
    # the GGUF's head sizes are the cache's: K = latent + rope, V = latent (convert_hf_to_gguf)
    w.add_key_length(MLA_KV_LORA + MLA_ROPE)
    w.add_value_length(MLA_KV_LORA)
    w.add_rope_dimension_count(MLA_ROPE)
    w.add_head_count_kv(1)
    for i in range(s.n_layer):
        p = f"blk.{i}."
        add(p + "attn_norm.weight", s.n_embd, norm=True)
        add(p + "attn_q_a_norm.weight", MLA_Q_LORA, norm=True)
        add(p + "attn_kv_a_norm.weight", MLA_KV_LORA, norm=True)
        add(p + "attn_q_a.weight", s.n_embd, MLA_Q_LORA)
        add(p + "attn_q_b.weight", MLA_Q_LORA, s.n_head * (MLA_NOPE + MLA_ROPE))
        add(p + "attn_kv_a_mqa.weight", s.n_embd, MLA_KV_LORA + MLA_ROPE)
        add(p + "attn_k_b.weight", MLA_NOPE, MLA_KV_LORA, s.n_head)
        add(p + "attn_v_b.weight", MLA_KV_LORA, MLA_V, s.n_head)
        add(p + "attn_output.weight", s.n_head * MLA_V, s.n_embd)
        add(p + "ffn_norm.weight", s.n_embd, norm=True)
        _ffn(add, p, s.n_embd, s.n_ff)
