"""Tiny but real GGUF models, written with the `gguf` package, for tests and benchmarks.

Why: the estimator is checked against llama.cpp itself, which only loads files with a valid
architecture, tensor set and tokenizer. Three shapes cover the memory rules: llama-style GQA,
a mixture of experts (llama with experts, Mixtral layout) and sliding-window layers (gemma3).
Needs numpy and gguf (imported lazily; not used by the runtime paths).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SHAPES = ("llama", "moe", "gemma3")


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
    weight_type: str = "F16"  # F16, F32, Q8_0


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
    arch = "gemma3" if shape.kind == "gemma3" else "llama"
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
    w.add_head_count_kv(s.n_head_kv)
    w.add_key_length(head_dim)
    w.add_value_length(head_dim)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_rope_dimension_count(head_dim)
    w.add_rope_freq_base(10000.0)
    if s.kind == "moe":
        w.add_expert_count(s.n_expert)
        w.add_expert_used_count(s.n_expert_used)
    if s.kind == "gemma3":
        w.add_sliding_window(s.sliding_window)
    qtype = gguf.GGMLQuantizationType[s.weight_type]
    w.add_file_type({"F32": 0, "F16": 1, "Q8_0": 7}[s.weight_type])
    _tokenizer(w, s.n_vocab)

    def add(name: str, *dims: int, norm: bool = False) -> None:
        # dims in GGUF order (ne0 first); numpy wants the reverse
        data = (rng.standard_normal(tuple(reversed(dims))) * 0.02).astype(np.float32)
        if norm or qtype == gguf.GGMLQuantizationType.F32:
            w.add_tensor(name, np.ones_like(data) if norm else data)
        elif qtype == gguf.GGMLQuantizationType.F16:
            w.add_tensor(name, data.astype(np.float16))
        else:
            q = gguf.quants.quantize(data, qtype)
            w.add_tensor(name, q, raw_shape=q.shape, raw_dtype=qtype)

    add("token_embd.weight", s.n_embd, s.n_vocab)
    add("output_norm.weight", s.n_embd, norm=True)
    if s.kind != "gemma3":
        add("output.weight", s.n_embd, s.n_vocab)
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
            add(p + "ffn_gate.weight", s.n_embd, s.n_ff)
            add(p + "ffn_up.weight", s.n_embd, s.n_ff)
            add(p + "ffn_down.weight", s.n_ff, s.n_embd)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path
