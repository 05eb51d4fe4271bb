"""ModelInfo: the facts a memory estimate needs, read from a model's own header (or the catalog).

Why a separate type: readers (GGUF, safetensors+config.json, catalog) differ, the estimator and
the `Model` component must not care which one answered. Unknown facts stay None.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

# llama.cpp's default sliding-window layer patterns for architectures whose GGUF has no
# `<arch>.attention.sliding_window_pattern` key (llama-model.cpp `set_swa_pattern`).
SWA_PATTERN_DEFAULTS = {"gemma2": 2, "gemma3": 6, "gemma3n": 5, "cohere2": 4, "gpt-oss": 2, "llama4": 4}


def swa_layers_from_pattern(n_layer: int, pattern: int) -> list[bool]:
    """llama.cpp's rule: with pattern n, every n-th layer is full attention, the others sliding."""
    return [pattern == 0 or (il % pattern) < (pattern - 1) for il in range(n_layer)]


@dataclass
class ModelInfo:
    """What a model is, as far as memory goes. Sizes in bytes; per-layer lists where layers differ."""

    source: str = ""
    format: str = "unknown"  # gguf | safetensors | catalog
    architecture: str | None = None
    name: str | None = None
    block_count: int | None = None
    context_length: int | None = None
    embedding_length: int | None = None
    feed_forward_length: int | None = None
    head_count: int | None = None
    head_count_kv: list[int] | None = None  # per layer
    key_length: int | None = None
    value_length: int | None = None
    expert_count: int | None = None
    expert_used_count: int | None = None
    sliding_window: int | None = None
    swa_layers: list[bool] | None = None  # per layer: True = sliding-window attention
    kv_lora_rank: int | None = None  # MLA (DeepSeek): compressed KV width
    rope_dim: int | None = None  # MLA: decoupled RoPE key width
    vocab_size: int | None = None
    file_type: str | None = None  # quantization / dtype label (Q4_K_M, BF16, FP8 ...)
    parameter_count: int | None = None
    active_parameter_count: int | None = None
    total_bytes: int | None = None  # exact tensor bytes (GGUF) / weight bytes (safetensors)
    expert_bytes: int | None = None  # bytes of routed-expert tensors (MoE CPU offload)
    expert_bytes_per_layer: list[int] | None = None
    file_size: int | None = None
    header_bytes: int | None = None
    dtype_bytes: dict[str, int] = field(default_factory=dict)  # safetensors: bytes per dtype
    license: str | None = None
    quantization_config: dict | None = None
    # hybrid linear attention (Gated DeltaNet, Mamba): per-layer recurrent flag and the state shape
    recurrent_layers: list[bool] | None = None  # per layer: True = fixed-size recurrent state, no KV
    ssm_conv_kernel: int | None = None
    ssm_inner_size: int | None = None
    ssm_state_size: int | None = None
    ssm_group_count: int | None = None
    # Gemma 4: sliding layers' own head size, the last N layers reuse earlier layers' KV, per-layer embeddings
    key_length_swa: int | None = None
    value_length_swa: int | None = None
    kv_shared_layers: int | None = None
    embedding_length_per_layer: int | None = None
    host_only_bytes: int | None = None  # weights llama.cpp reads lazily from the mapped file (never on a GPU)
    # sparse attention: indexer key cache per token (GLM-5 / DeepSeek-V3.2 DSA, DeepSeek-V4 lightning indexer)
    indexer_key_length: int | None = None
    compress_ratios: list[int] | None = None  # DeepSeek-V4: per layer 0/1 = window only, 4 = CSA, 128 = HCA
    tensors: list | None = field(default=None, repr=False)  # GGUF (name, dims, ggml type, offset), not exported

    @property
    def head_dim_k(self) -> int | None:
        if self.key_length:
            return self.key_length
        if self.embedding_length and self.head_count:
            return self.embedding_length // self.head_count
        return None

    @property
    def head_dim_v(self) -> int | None:
        return self.value_length or self.head_dim_k

    @property
    def is_moe(self) -> bool:
        return bool(self.expert_count and self.expert_count > 1)

    @property
    def is_mla(self) -> bool:
        return bool(self.kv_lora_rank)

    def missing_for_kv(self) -> list[str]:
        """Facts the KV-cache estimate cannot do without (named as in the catalog/spec)."""
        missing = []
        if not self.block_count:
            missing.append("layers")
        if self.is_mla:
            return missing
        if self.recurrent_layers and any(self.recurrent_layers) and not (self.ssm_inner_size and self.ssm_state_size):
            missing.append("linear-attention state shape (ssmInnerSize, ssmStateSize)")
        if not self.head_count_kv:
            missing.append("kvHeads")
        if not self.head_dim_k:
            missing.append("headDim")
        return missing

    def has_kv(self, il: int) -> bool:
        """llama.cpp: recurrent layers and Gemma 4's KV-sharing tail layers own no KV cache."""
        if self.recurrent_layers and il < len(self.recurrent_layers) and self.recurrent_layers[il]:
            return False
        return not (self.kv_shared_layers and il >= (self.block_count or 0) - self.kv_shared_layers)

    def is_swa(self, il: int) -> bool:
        return bool(self.swa_layers and il < len(self.swa_layers) and self.swa_layers[il])

    def head_dims(self, il: int) -> tuple[int, int]:
        """(K, V) head size of layer il: sliding layers may have their own (Gemma 4)."""
        if self.is_swa(il) and self.key_length_swa:
            return self.key_length_swa, self.value_length_swa or self.key_length_swa
        return self.head_dim_k or 0, self.head_dim_v or 0

    @property
    def recurrent_state_bytes(self) -> int:
        """Bytes of one sequence's recurrent state over all recurrent layers (llama.cpp keeps it in F32:
        conv state (kernel-1) x (inner + 2 x groups x state) and SSM state state x inner)."""
        n = sum(1 for r in self.recurrent_layers or [] if r)
        if not n or not (self.ssm_inner_size and self.ssm_state_size):
            return 0
        conv = max((self.ssm_conv_kernel or 1) - 1, 0) * (
            self.ssm_inner_size + 2 * (self.ssm_group_count or 0) * self.ssm_state_size
        )
        return n * 4 * (conv + self.ssm_state_size * self.ssm_inner_size)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("tensors", None)
        d["head_dim_k"], d["head_dim_v"] = self.head_dim_k, self.head_dim_v
        return d
