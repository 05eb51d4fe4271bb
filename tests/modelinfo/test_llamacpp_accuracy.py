"""The estimator against llama.cpp itself: weights and KV within 5%, total within 10%.

llama.cpp (via llama-cpp-python) loads each generated model and prints its buffer sizes; we parse
them from its log. Runs in a subprocess so llama.cpp's C-level stderr is captured whole.
"""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from llmkube_iac.modelinfo.fit import kv_cache_bytes, llamacpp_compute_bytes
from llmkube_iac.modelinfo.gguf_header import read_gguf_file

pytestmark = pytest.mark.llamacpp
MiB = 1 << 20
LOADER = """
import sys, llama_cpp
path, ctx, kv, fa = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4] == "1"
T = {"f16": 1, "q8_0": 8, "q4_0": 2}
llama_cpp.Llama(path, n_ctx=ctx, n_ubatch=512, n_batch=512, verbose=True, n_threads=1, flash_attn=fa,
                type_k=T[kv], type_v=T[kv], swa_full=False)
"""


def _llama_cpp_buffers(path, ctx, kv, fa) -> dict[str, float]:
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        pytest.fail("the llamacpp suite needs llama-cpp-python: pip install llama-cpp-python")
    out = subprocess.run([sys.executable, "-c", LOADER, str(path), str(ctx), kv, "1" if fa else "0"],
                         capture_output=True, text=True, timeout=120)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-2000:]
    weights = sum(float(x) for x in re.findall(r"model buffer size =\s+([\d.]+) MiB", log))
    kv_mib = sum(float(x) for x in re.findall(r"llama_kv_cache: size =\s+([\d.]+) MiB", log))
    compute = sum(float(x) for x in re.findall(r"\w+ compute buffer size =\s+([\d.]+) MiB", log))
    return {"weights": weights * MiB, "kv": kv_mib * MiB, "compute": compute * MiB}


CASES = [(k, ctx, kv, fa) for k in ("llama", "moe", "gemma3") for ctx, kv, fa in
         ((2048, "f16", False), (8192, "f16", True), (4096, "q8_0", True), (16384, "q4_0", True))]


@pytest.mark.parametrize("kind,ctx,kv,fa", CASES)
def test_estimate_matches_llama_cpp(models, kind, ctx, kv, fa):
    real = _llama_cpp_buffers(models[kind], ctx, kv, fa)
    info = read_gguf_file(str(models[kind]))
    est_w = info.total_bytes
    est_kv = kv_cache_bytes(info, ctx, 1, kv, kv)
    est_c = llamacpp_compute_bytes(info, ctx, 1, fa)
    assert abs(est_w - real["weights"]) <= 0.05 * real["weights"], (est_w, real)
    assert abs(est_kv - real["kv"]) <= 0.05 * real["kv"], (est_kv, real)
    total_real = sum(real.values())
    assert abs(est_w + est_kv + est_c - total_real) <= 0.10 * total_real, (est_w, est_kv, est_c, real)
