"""One bits-per-weight table: the planner's cache/memory sizing and the fit estimator size the same weights."""

from __future__ import annotations

import pytest

from llmkube_iac.modelinfo.fit import fit_service
from llmkube_iac.modelinfo.quant import BITS_PER_WEIGHT, bits_per_weight
from llmkube_iac.plan.model import cache_size_gib, weights_gib
from llmkube_iac.spec import InferenceServiceSpec, ModelSpec
from llmkube_iac.units import GIB


@pytest.mark.parametrize("quantization", sorted(BITS_PER_WEIGHT))
def test_planner_and_fit_estimator_agree_on_weights(quantization):
    model = ModelSpec(name="m", source="hf://org/m-GGUF/m.gguf", quantization=quantization, totalParametersB=7)
    svc = InferenceServiceSpec.model_validate({"name": "chat", "model": "m", "contextSize": 4096})
    fit_weights = fit_service(model, svc, memory_gib=80).breakdown["weights"]
    assert fit_weights == int(7e9 * BITS_PER_WEIGHT[quantization] / 8)
    assert weights_gib(model) * GIB == pytest.approx(fit_weights, abs=1)
    assert cache_size_gib(model) < 100  # sized from the table, not the unknown-size default


@pytest.mark.parametrize("spelling", ["q4_k_m", "Q4-K-M", "q4-k_M"])
def test_any_spelling(spelling):
    assert bits_per_weight(spelling) == BITS_PER_WEIGHT["Q4_K_M"]


def test_unknown_quantization_is_unknown():
    assert bits_per_weight("Q7_Z") is None and bits_per_weight(None) is None and bits_per_weight("") is None
    model = ModelSpec(name="m", source="hf://org/m-GGUF/m.gguf", quantization="Q7_Z", totalParametersB=7)
    assert weights_gib(model) is None and cache_size_gib(model) == 100
