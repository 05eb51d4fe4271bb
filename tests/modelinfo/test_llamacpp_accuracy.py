"""The estimator against llama.cpp itself: weights and KV within 5%, total within 10%, on any CPU.

llama.cpp (via llama-cpp-python) loads each generated model and prints its buffer sizes; we parse
them per buffer from its log. Runs in a subprocess so llama.cpp's C-level stderr is captured whole.
Weights are compared per buffer: the mapped file span and each extra (repacked / AMX) buffer the
CPU of the machine running the suite gets, predicted from the CPU flags llama.cpp itself reports.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from llmkube_iac.modelinfo.fit import kv_cache_bytes, llamacpp_compute_bytes, recurrent_state_bytes
from llmkube_iac.modelinfo.gguf_header import read_gguf_file
from llmkube_iac.modelinfo.llamacpp_buffers import EXTRA_BUFFERS, CpuFeatures, weight_buffers

pytestmark = pytest.mark.llamacpp
MiB = 1 << 20
LOADER = """
import sys, llama_cpp
path, ctx, kv, fa = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4] == "1"
T = {"f16": 1, "q8_0": 8, "q4_0": 2}
print("SYSTEM_INFO:", llama_cpp.llama_print_system_info().decode(), flush=True)
llama_cpp.Llama(path, n_ctx=ctx, n_ubatch=512, n_batch=512, verbose=True, n_threads=1, flash_attn=fa,
                type_k=T[kv], type_v=T[kv], swa_full=False)
"""


def _llama_cpp_buffers(path, ctx, kv, fa) -> dict:
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        pytest.fail("the llamacpp suite needs llama-cpp-python: pip install llama-cpp-python")
    out = subprocess.run(
        [sys.executable, "-c", LOADER, str(path), str(ctx), kv, "1" if fa else "0"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-2000:]
    model = {}
    for name, size in re.findall(r"(\S+) model buffer size =\s+([\d.]+) MiB", log):
        model[name] = model.get(name, 0.0) + float(size) * MiB
    kv_mib = sum(float(x) for x in re.findall(r"llama_kv_cache: size =\s+([\d.]+) MiB", log))
    rs_mib = sum(float(x) for x in re.findall(r"llama_memory_recurrent: size =\s+([\d.]+) MiB", log))
    compute = sum(float(x) for x in re.findall(r"\w+ compute buffer size =\s+([\d.]+) MiB", log))
    info = re.search(r"SYSTEM_INFO: (.*)", log)
    return {
        "model": model,
        "kv": kv_mib * MiB,
        "rs": rs_mib * MiB,
        "compute": compute * MiB,
        "cpu": CpuFeatures.from_system_info(info.group(1) if info else ""),
    }


def _close(est: float, real: float, tol: float, what: str, ctx) -> None:
    assert abs(est - real) <= tol * max(real, 1), (what, est, real, ctx)


def _check(path, ctx, kv, fa):
    real = _llama_cpp_buffers(path, ctx, kv, fa)
    info = read_gguf_file(str(path))
    unknown = set(real["model"]) - {"CPU_Mapped", "CPU", *EXTRA_BUFFERS}
    assert not unknown, f"llama.cpp used buffer types the model does not know: {unknown}"
    predicted = weight_buffers(info.tensors, real["cpu"])
    for name in set(predicted) | set(real["model"]):  # every buffer llama.cpp reports, and only those
        _close(predicted.get(name, 0), real["model"].get(name, 0), 0.05, f"{name} weights", real)
    est_kv = kv_cache_bytes(info, ctx, 1, kv, kv)
    _close(est_kv, real["kv"], 0.05, "KV cache", real)
    _close(recurrent_state_bytes(info, 1), real["rs"], 0.05, "recurrent state", real)
    est_c = llamacpp_compute_bytes(info, ctx, 1, fa)
    total_real = sum(real["model"].values()) + real["kv"] + real["rs"] + real["compute"]
    est_total = sum(predicted.values()) + est_kv + recurrent_state_bytes(info, 1) + est_c
    _close(est_total, total_real, 0.10, "total", (real, est_kv, est_c))
    return real


CASES = [
    (k, ctx, kv, fa)
    for k in ("llama", "moe", "gemma3")
    for ctx, kv, fa in ((2048, "f16", False), (8192, "f16", True), (4096, "q8_0", True), (16384, "q4_0", True))
]
NEW_ARCH_CASES = [
    (k, ctx, kv, fa)
    for k in ("q4_0", "qwen35", "gemma4", "deepseek2")
    for ctx, kv, fa in ((4096, "f16", True), (16384, "q8_0", True))
]


@pytest.mark.parametrize("kind,ctx,kv,fa", CASES + NEW_ARCH_CASES)
def test_estimate_matches_llama_cpp(models, kind, ctx, kv, fa):
    _check(models[kind], ctx, kv, fa)


def test_repacked_weights_are_predicted_per_cpu(models):
    """Q4_0 matrices are repacked on AVX2/NEON CPUs: the mapped span shrinks and CPU_REPACK holds
    the copies; on a CPU without those kernels nothing is repacked. Either way the prediction agrees."""
    real = _llama_cpp_buffers(models["q4_0"], 2048, "f16", True)
    info = read_gguf_file(str(models["q4_0"]))
    cpu = real["cpu"]
    if cpu.avx2 or cpu.amx_int8 or (cpu.neon and (cpu.dotprod or cpu.matmul_int8)):
        assert set(real["model"]) & set(EXTRA_BUFFERS), real["model"]
    assert set(weight_buffers(info.tensors, cpu)) == set(real["model"])
