"""gpu-fit covers Apple Silicon services: the model must fit the usable unified memory of its hosts."""

from __future__ import annotations

import json

from llmkube_iac.render.engine import render_program

PROGRAM = """
from llmkube_iac import Site
Site("mac", {
    "site": {"name": "mac", "jurisdiction": "DE", "metalHosts": [
        {"name": "mini", "chip": "M4 Pro", "unifiedMemoryGiB": %(memory)s, "usableFraction": 0.75,
         "address": "10.0.0.5"}]},
    "models": [{"name": "qwen", "source": "hf://Qwen/Qwen3-30B-A3B-GGUF/Qwen3-30B-A3B-Q4_K_M.gguf",
                "quantization": "Q4_K_M", "architecture": "MoE", "totalParametersB": 30.5,
                "activeParametersB": 3.3, "sizeGiB": 17.3}],
    "services": [{"name": "chat", "model": "qwen", "accelerator": {"vendor": "metal"}, "contextSize": 8192}],
})
"""


def fit_results(tmp_path, memory: int):
    (tmp_path / "Pulumi.yaml").write_text("name: mac\nruntime: python\n")
    (tmp_path / "Pulumi.s.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text(PROGRAM % {"memory": memory})
    result = render_program(tmp_path, "s")
    return [r for r in result.policy_results if r.rule == "gpu-fit"]


def test_model_larger_than_usable_unified_memory_is_refused(tmp_path):
    found = fit_results(tmp_path, 16)  # 16 GiB x 0.75 = 12 GiB usable < 17.3 GiB of weights
    assert found and found[0].level == "mandatory"
    assert "chat" in found[0].message and "does-not-fit" in found[0].message
    assert json.dumps(found[0].to_dict())


def test_model_within_usable_unified_memory_passes(tmp_path):
    assert fit_results(tmp_path, 192) == []
