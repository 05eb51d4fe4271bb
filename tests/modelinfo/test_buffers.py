"""llama.cpp's per-backend weight buffers for CPUs this machine may not have (AMX, NEON, AVX-512), and
the newer architectures' memory rules on published facts. The llamacpp suite checks the same model
against the real llama.cpp on whatever CPU runs it."""

from __future__ import annotations

from llmkube_iac.modelinfo.catalog import catalog_info, load_catalog
from llmkube_iac.modelinfo.fit import kv_cache_bytes, recurrent_state_bytes
from llmkube_iac.modelinfo.gguf_header import read_gguf_file, tensor_nbytes
from llmkube_iac.modelinfo.llamacpp_buffers import CpuFeatures, pod_weight_bytes, tensor_op, weight_buffers

AMX = CpuFeatures(avx2=True, avx512=True, amx_int8=True)
NEON = CpuFeatures(neon=True, dotprod=True)
GENERIC = CpuFeatures(repack=True)


def test_system_info_flags_are_parsed():
    text = "CPU : SSE3 = 1 | AVX2 = 1 | AVX512 = 1 | AMX_INT8 = 1 | REPACK = 1 | "
    assert CpuFeatures.from_system_info(text) == CpuFeatures(avx2=True, avx512=True, amx_int8=True, repack=True)
    arm = CpuFeatures.from_system_info("CPU : NEON = 1 | ARM_FMA = 1 | DOTPROD = 1 | MATMUL_INT8 = 1 | REPACK = 1 |")
    assert arm.neon and arm.dotprod and arm.matmul_int8 and not arm.avx2
    assert CpuFeatures.from_system_info("") == CpuFeatures(repack=False)


def test_ops_follow_llama_cpp_tensor_table():
    assert tensor_op("token_embd.weight") == "get_rows" and tensor_op("per_layer_token_embd.weight") == "get_rows"
    assert tensor_op("blk.3.ffn_up_exps.weight") == "mul_mat_id"
    assert tensor_op("blk.0.attn_q.weight") == "mul_mat" and tensor_op("output.weight") == "mul_mat"
    assert tensor_op("blk.0.attn_norm.weight") == "other" and tensor_op("blk.0.ssm_dt.bias") == "other"


def test_amx_takes_f16_matrices_and_a_copy_of_tied_embeddings(models):
    info = read_gguf_file(str(models["llama"]))
    bufs = weight_buffers(info.tensors, AMX)
    matmul = sum(tensor_nbytes(d, t) for n, d, t, _ in info.tensors if tensor_op(n) == "mul_mat")
    assert bufs["AMX"] == matmul  # F16 is copied, not re-laid out
    assert bufs["CPU_Mapped"] < info.total_bytes  # the trailing matrices left the mapped span
    assert pod_weight_bytes(info.tensors, AMX) == info.total_bytes  # the copies replace, not add
    tied = read_gguf_file(str(models["gemma3"]))  # no output.weight: the output matmul gets its own copy
    embd = next(tensor_nbytes(d, t) for n, d, t, _ in tied.tensors if n == "token_embd.weight")
    assert weight_buffers(tied.tensors, AMX)["AMX"] >= embd
    assert pod_weight_bytes(tied.tensors, AMX) == tied.total_bytes + embd


def test_repack_depends_on_type_and_cpu(models):
    q4 = read_gguf_file(str(models["q4_0"]))
    assert "CPU_REPACK" in weight_buffers(q4.tensors, NEON)
    assert set(weight_buffers(q4.tensors, GENERIC)) == {"CPU_Mapped"}  # no kernel for this CPU
    f16 = read_gguf_file(str(models["llama"]))
    assert set(weight_buffers(f16.tensors, NEON)) == {"CPU_Mapped"}  # F16 is never repacked
    moe = read_gguf_file(str(models["moe"]))
    assert "AMX" in weight_buffers(moe.tensors, AMX)  # attention; the expert tensors (MUL_MAT_ID) stay mapped
    assert weight_buffers(moe.tensors, CpuFeatures(repack=False), mmap=False) == {
        "CPU": sum(-(-tensor_nbytes(d, t) // 32) * 32 for _, d, t, _ in moe.tensors)
    }


def test_hybrid_gemma4_and_mla_rules_on_published_facts():
    q = catalog_info("qwen3.5-27b", "Q4_K_M")
    assert sum(q.recurrent_layers) == 48 and q.missing_for_kv() == []
    # only the 16 full-attention layers hold KV: 16 x 4 heads x 256 x (K+V) x 2 bytes per token
    assert kv_cache_bytes(q, 8192) == 8192 * 16 * 4 * 256 * 2 * 2
    state = 48 * 4 * (3 * (48 * 128 + 2 * 16 * 128) + 128 * 48 * 128)  # F32 conv + delta state per layer
    assert recurrent_state_bytes(q) == state and recurrent_state_bytes(q, 4) == 4 * state
    g = catalog_info("gemma-4-31b", "Q4_K_M")
    full = 10 * 4 * 512 * 2 * 2  # 10 full layers, 4 KV heads of 512
    swa_cells = -(-(1024 + 512) // 256) * 256
    assert kv_cache_bytes(g, 32768) == 32768 * full + 50 * swa_cells * 16 * 256 * 2 * 2
    e2b = catalog_info("gemma-4-e2b", "Q4_K_M")
    assert sum(e2b.has_kv(il) for il in range(35)) == 15  # the last 20 layers reuse earlier KV
    k = catalog_info("kimi-k2.5")
    assert kv_cache_bytes(k, 1024) == 1024 * 61 * (512 + 64) * 2  # llama.cpp: the latent only, V is a view


def test_catalog_models_of_the_reference_table_have_sources_and_say_why_null():
    cat = load_catalog()
    for name in (
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
        "mistral-medium-3.5",
        "deepseek-v4-flash",
        "deepseek-v4-pro",
        "glm-5.1",
    ):
        assert cat[name]["layers"] and cat[name]["sources"] and cat[name]["totalParametersB"], name
        assert catalog_info(name, "Q4_K_M").missing_for_kv() == [], name
    # no published config reachable: layers stay null, and the notes say so
    assert cat["mistral-large-3"]["layers"] is None and "null" in cat["mistral-large-3"]["notes"]
    assert catalog_info("mistral-large-3", "Q4_K_M").missing_for_kv() == ["layers", "kvHeads", "headDim"]


def test_raw_parameter_counts_include_per_layer_embeddings():
    cat = load_catalog()
    # the model card's raw counts, not the "effective" ones the names carry
    assert (cat["gemma-4-e2b"]["totalParametersB"], cat["gemma-4-e2b"]["activeParametersB"]) == (5.1, 2.3)
    assert (cat["gemma-4-e4b"]["totalParametersB"], cat["gemma-4-e4b"]["activeParametersB"]) == (8, 4.5)
    assert catalog_info("gemma-4-e2b", "BF16").total_bytes == int(5.1e9 * 2)


def test_deepseek_v4_and_glm_dsa_caches_from_published_configs():
    flash = catalog_info("deepseek-v4-flash")
    ratios = flash.compress_ratios  # the published list has one more entry (the MTP layer); only 43 layers count
    assert len(ratios) == 43 and (ratios.count(0), ratios.count(4), ratios.count(128)) == (2, 21, 20)
    pro = catalog_info("deepseek-v4-pro")
    assert len(pro.compress_ratios) == 61 and (pro.compress_ratios.count(4), pro.compress_ratios.count(128)) == (30, 31)
    # llama.cpp (llama-kv-cache-dsv4.cpp): every layer keeps a raw K window of head_dim; CSA layers add K/4 with the
    # indexer key, HCA layers K/128, each padded to 256 cells; plus the F32 compressor ring states
    ctx, head, idx = 8192, 512, 128
    window = 768  # pad(128 x 1 slot + 512 ubatch, 256)
    expect = (
        43 * window * head * 2
        + 21 * (2048 * (head + idx) * 2 + 4 * 2 * 8 * (2 * head + 2 * idx))
        + 20 * (256 * head * 2 + 4 * 2 * 128 * head)
    )
    assert kv_cache_bytes(flash, ctx) == expect
    glm = catalog_info("glm-5.1")
    assert glm.is_mla and glm.missing_for_kv() == []
    # llama.cpp glm-dsa: the MLA latent (512 + 64) plus one 128-wide indexer key per token and layer, K only
    assert kv_cache_bytes(glm, 8192) == 8192 * 78 * (512 + 64 + 128) * 2
