"""Which host buffers llama.cpp puts a GGUF's weights in, per CPU backend, and which of them a pod pays for.

Why: llama.cpp's CPU backend has "extra" buffer types that hold a second, re-laid-out copy of some
weights (CPU_REPACK on AVX2/NEON/SVE/RISC-V, AMX on Sapphire Rapids and later). With mmap (the
default) the file stays mapped too, so llama.cpp reports the weights twice: `CPU_Mapped` (the file
range spanning the weights that stayed in place) plus `CPU_REPACK`/`AMX`. Summing the reported
buffers over-counts; ignoring the extra ones under-counts. The rules here follow llama.cpp:

- a weight goes to the first extra buffer type whose kernel supports its op (llama-model-loader's
  `weight_buft_supported`): matrix multiplications only (`MUL_MAT`, and `MUL_MAT_ID` for repack),
  never embeddings read with `GET_ROWS` nor norms; each type's own eligibility (ggml-cpu repack.cpp
  `ggml_repack_get_optimal_repack_type`, amx/amx.cpp `supports_op`, amx/common.h);
- tied embeddings (no `output.weight`) are duplicated into the output layer's buffer for the
  `MUL_MAT`, so an extra buffer may hold a copy of `token_embd`;
- `CPU_Mapped` = the file span from the first to the last weight left in the default CPU buffer
  (llama-model-loader `get_mapping_range`): repacked weights inside that span stay mapped.

What counts against a pod's memory limit: anonymous memory (the extra buffers, the KV cache and the
compute buffers, and without mmap the whole CPU model buffer) is charged and cannot be reclaimed;
mapped weights are page cache, charged to the pod's cgroup while resident but reclaimable. The
weights llama.cpp reads every token (those left in `CPU_Mapped`) must stay resident, so they count;
the mapped originals of repacked weights are read once at load and then only cost reclaimable
cache, so they do not. Hence `pod_weight_bytes` = mapped weights still used + the extra buffers.
"""

from __future__ import annotations

from dataclasses import dataclass

from .gguf_header import GGML_TYPES

TENSOR_ALIGNMENT = 32  # ggml-impl.h: every buffer pads each tensor to this
# tensor stems by the op that consumes them (llama-arch.cpp LLM_TENSOR_INFOS; the ones GGUFs carry)
GET_ROWS = frozenset({"token_embd", "position_embd", "token_types", "per_layer_token_embd", "nextn.embed_tokens"})
MUL_MAT_ID = frozenset(
    {
        "ffn_gate_exps",
        "ffn_up_exps",
        "ffn_down_exps",
        "ffn_gate_up_exps",
        "ffn_gate_chexps",
        "ffn_up_chexps",
        "ffn_down_chexps",
    }
)
MUL_MAT = frozenset(
    {
        "output",
        "attn_q",
        "attn_k",
        "attn_v",
        "attn_qkv",
        "attn_output",
        "attn_gate",
        "attn_q_a",
        "attn_q_b",
        "attn_kv_a_mqa",
        "attn_kv_b",
        "attn_k_b",
        "attn_v_b",
        "attn_kv",
        "attn_output_a",
        "attn_output_b",
        "ffn_gate",
        "ffn_up",
        "ffn_down",
        "ffn_gate_shexp",
        "ffn_up_shexp",
        "ffn_down_shexp",
        "ffn_gate_inp",
        "ffn_gate_inp_shexp",
        "ssm_in",
        "ssm_out",
        "ssm_alpha",
        "ssm_beta",
        "ssm_ba",
        "ssm_dt",
        "ssm_x",
        "inp_gate",
        "proj",
        "per_layer_model_proj",
        "nextn.eh_proj",
        "nextn.shared_head_head",
        "indexer.attn_k",
        "indexer.attn_q_b",
        "indexer.k_proj",
        "indexer.q_proj",
        "indexer.proj",
        "attn_compressor_kv",
        "attn_compressor_gate",
        "indexer_compressor_kv",
        "indexer_compressor_gate",
        "altup_proj",
        "altup_unembd_proj",
        "laurel_l",
        "laurel_r",
    }
)
# extra bytes per quantization block in AMX's packed (VNNI) layout: amx/mmq.cpp get_row_size
AMX_BLOCK_EXTRA = {"Q8_0": 4, "Q4_K": 4, "Q5_K": 4, "IQ4_XS": 2}
AMX_TYPES = {"Q4_0": 32, "Q4_1": 32, "Q8_0": 32, "Q4_K": 256, "Q5_K": 256, "Q6_K": 256, "IQ4_XS": 256, "F16": 16}
EXTRA_BUFFERS = ("AMX", "CPU_REPACK")  # llama.cpp's order when both exist (ggml-cpu.cpp)


@dataclass(frozen=True)
class CpuFeatures:
    """The CPU flags llama.cpp's extra buffer types test (its system_info names them the same)."""

    avx2: bool = False
    avx512: bool = False
    amx_int8: bool = False
    neon: bool = False
    dotprod: bool = False
    matmul_int8: bool = False
    sve_cnt: int = 0  # SVE vector length in bytes (32 = 256-bit)
    repack: bool = True  # the CPU_REPACK buffer type is compiled in (llama.cpp's default)

    @classmethod
    def from_system_info(cls, text: str) -> CpuFeatures:
        """Parse llama.cpp's `llama_print_system_info()` ("AVX2 = 1 | AMX_INT8 = 1 | REPACK = 1 | ...")."""
        flags = {}
        for part in text.replace("\n", "|").split("|"):
            if "=" in part:
                key, _, value = part.partition("=")
                flags[key.strip().split(":")[-1].strip().upper()] = value.strip()
        on = lambda k: flags.get(k, "0") not in ("0", "")  # noqa: E731
        return cls(
            avx2=on("AVX2"),
            avx512=on("AVX512"),
            amx_int8=on("AMX_INT8"),
            neon=on("NEON"),
            dotprod=on("DOTPROD"),
            matmul_int8=on("MATMUL_INT8"),
            sve_cnt=int(flags.get("SVE_CNT", "0") or 0) if flags.get("SVE_CNT", "0").isdigit() else 0,
            repack=on("REPACK"),
        )


def tensor_op(name: str) -> str:
    """The ggml op that reads this weight: get_rows, mul_mat, mul_mat_id or other."""
    stem = name[: -len(".weight")] if name.endswith(".weight") else name
    if stem.startswith("blk."):
        stem = stem.split(".", 2)[2] if stem.count(".") >= 2 else stem
    if stem in GET_ROWS:
        return "get_rows"
    if stem in MUL_MAT_ID:
        return "mul_mat_id"
    if stem in MUL_MAT and name.endswith(".weight"):
        return "mul_mat"
    return "other"


def _type_name(ttype: int) -> str:
    return GGML_TYPES[ttype][0]


def _nbytes(dims, ttype: int) -> int:
    _, block, size = GGML_TYPES[ttype]
    n = 1
    for d in dims:
        n *= d
    return n // block * size


def repack_eligible(type_name: str, dims, op: str, cpu: CpuFeatures) -> bool:
    """ggml-cpu repack.cpp: the optimal repack type exists for this type/shape on this CPU."""
    if not cpu.repack or op not in ("mul_mat", "mul_mat_id") or len(dims) != (2 if op == "mul_mat" else 3):
        return False
    ne1 = dims[1]
    neon_i8 = cpu.neon and cpu.matmul_int8
    neon_dot = cpu.neon and cpu.dotprod
    if type_name == "Q4_0":
        return ((cpu.avx2 or (cpu.sve_cnt == 32 and cpu.matmul_int8)) and ne1 % 8 == 0) or (
            (neon_i8 or neon_dot) and ne1 % 4 == 0
        )
    if type_name == "Q4_K":
        return (cpu.avx2 or neon_i8 or neon_dot) and ne1 % 8 == 0
    if type_name == "Q2_K":
        return cpu.avx512 and ne1 % 8 == 0
    if type_name in ("Q5_K", "Q6_K"):
        return (neon_i8 or neon_dot) and ne1 % 8 == 0
    if type_name == "IQ4_NL":
        return (cpu.avx2 and ne1 % 8 == 0) or (neon_dot and ne1 % 4 == 0)
    if type_name == "MXFP4":
        return (cpu.avx2 and ne1 % 8 == 0) or (neon_dot and ne1 % 4 == 0)
    if type_name == "Q8_0":
        return (neon_i8 or neon_dot) and ne1 % 4 == 0
    return False


def amx_eligible(type_name: str, dims, op: str, cpu: CpuFeatures) -> bool:
    """ggml-cpu amx.cpp supports_op: 2-D MUL_MAT, out features % 32, in features % the type's block."""
    if not cpu.amx_int8 or op != "mul_mat" or len(dims) != 2 or type_name not in AMX_TYPES:
        return False
    return dims[1] % 32 == 0 and dims[0] % AMX_TYPES[type_name] == 0


def amx_bytes(type_name: str, dims, ttype: int) -> int:
    if type_name == "F16":
        return _nbytes(dims, ttype)
    block = GGML_TYPES[ttype][1]
    blocks = dims[0] // block
    return dims[1] * blocks * (GGML_TYPES[ttype][2] + AMX_BLOCK_EXTRA.get(type_name, 0))


def _pad(n: int) -> int:
    return -(-n // TENSOR_ALIGNMENT) * TENSOR_ALIGNMENT


def weight_buffers(tensors, cpu: CpuFeatures | None = None, mmap: bool = True) -> dict[str, int]:
    """llama.cpp's CPU model buffers for these tensors (name, dims, ggml type, file offset):
    {"CPU_Mapped" or "CPU": bytes, "AMX": bytes, "CPU_REPACK": bytes} (absent when empty)."""
    cpu = cpu or CpuFeatures(repack=False)
    extra = {"AMX": 0, "CPU_REPACK": 0}
    first, last, plain = None, 0, 0
    names = {t[0] for t in tensors}
    todo = list(tensors)
    if "output.weight" not in names:  # tied embeddings: the output MUL_MAT gets its own copy
        todo += [("output.weight", t[1], t[2], None) for t in tensors if t[0] == "token_embd.weight"]
    for name, dims, ttype, offset in todo:
        tname, op = _type_name(ttype), tensor_op(name)
        if amx_eligible(tname, dims, op, cpu):
            extra["AMX"] += _pad(amx_bytes(tname, dims, ttype))
            continue
        if repack_eligible(tname, dims, op, cpu):
            extra["CPU_REPACK"] += _pad(_nbytes(dims, ttype))
            continue
        if offset is None:  # a duplicated tied output that no extra buffer took: it shares the mapping
            continue
        nb = _nbytes(dims, ttype)
        first = offset if first is None else min(first, offset)
        last = max(last, offset + nb)
        plain += _pad(nb)
    out = {("CPU_Mapped" if mmap else "CPU"): (last - first if mmap and first is not None else plain)}
    out.update({k: v for k, v in extra.items() if v})
    return out


def pod_weight_bytes(tensors, cpu: CpuFeatures | None = None, mmap: bool = True) -> int:
    """Weight bytes a CPU pod must hold resident: weights used in place + the extra buffers' copies
    (the mapped originals of repacked weights are reclaimable page cache; see the module docstring)."""
    cpu = cpu or CpuFeatures(repack=False)
    bufs = weight_buffers(tensors, cpu, mmap)
    in_place = sum(
        _nbytes(d, t)
        for n, d, t, _ in tensors
        if not (
            amx_eligible(_type_name(t), d, tensor_op(n), cpu) or repack_eligible(_type_name(t), d, tensor_op(n), cpu)
        )
    )
    return in_place + sum(v for k, v in bufs.items() if k in EXTRA_BUFFERS)
