"""Cost per token: the roofline's arithmetic, its unknowns, break-even, and routers pricing local use."""

from __future__ import annotations

import pytest
import yaml

from llmkube_iac.modelinfo.accelerators import lookup_accelerator
from llmkube_iac.modelinfo.info import ModelInfo
from llmkube_iac.plan.cost import HOURS_PER_YEAR, break_even, estimate_cost
from llmkube_iac.plan.router import plan_router
from llmkube_iac.spec import InferenceServiceSpec, ModelSpec, SiteSpec
from llmkube_iac.spec.router import RouterSpec

GB = 1e9


def site(**econ) -> SiteSpec:
    return SiteSpec.model_validate(
        {
            "name": "dc",
            "jurisdiction": "DE",
            "economics": {"electricityDollarsPerKWh": 0.2, "pue": 1.5, **econ},
            "accelerators": [
                {
                    "name": "h100",
                    "vendor": "nvidia",
                    "product": "NVIDIA H100 80GB",
                    "memoryGiB": 80,
                    "devicesPerNode": 8,
                    "economics": {"priceDollars": 35040, "amortisationYears": 4, "powerWatts": 1000},
                }
            ],
        }
    )


MODEL = ModelSpec.model_validate({"name": "m", "source": "hf://org/m", "sizeGiB": 10})


def service(**kw) -> InferenceServiceSpec:
    return InferenceServiceSpec.model_validate(
        {"name": "chat", "model": "m", "runtime": "vllm", "accelerator": {"vendor": "nvidia", "product": "H100"}, **kw}
    )


def weights_only(total_bytes: int) -> ModelInfo:
    return ModelInfo(total_bytes=total_bytes)  # no layer facts: KV reads are left out (and said so)


def test_roofline_and_hourly_cost_by_hand():
    c = estimate_cost(site(), service(parallelSlots=1), MODEL, weights_only(int(10 * GB)))
    # one token per step reads 10 GB at 3350 GB/s x 0.6
    assert c.tokens_per_second == pytest.approx(3350 * 0.6 / 10)
    # 35040 $ over 4 years = 1 $/h; 1 kW x 1.5 PUE x 0.2 $/kWh = 0.3 $/h
    assert c.dollars_per_hour == pytest.approx(35040 / (4 * HOURS_PER_YEAR) + 0.3)
    assert c.dollars_per_million == pytest.approx(c.dollars_per_hour / (c.tokens_per_second * 3600) * 1e6)
    assert any("KV-cache reads left out" in n for n in c.notes)


def test_batching_shares_weight_reads_and_utilisation_raises_the_price():
    one = estimate_cost(site(), service(parallelSlots=1), MODEL, weights_only(int(10 * GB)))
    eight = estimate_cost(site(), service(parallelSlots=8), MODEL, weights_only(int(10 * GB)))
    assert eight.tokens_per_second == pytest.approx(8 * one.tokens_per_second)
    half = estimate_cost(site(utilisation=0.5), service(parallelSlots=1), MODEL, weights_only(int(10 * GB)))
    assert half.dollars_per_million == pytest.approx(2 * one.dollars_per_million)


def test_moe_reads_only_its_active_weights_until_the_batch_touches_every_expert():
    moe = ModelSpec.model_validate(
        {
            "name": "m",
            "source": "hf://org/m",
            "architecture": "MoE",
            "totalParametersB": 30,
            "activeParametersB": 3,
            "sizeGiB": 10,
        }
    )
    one = estimate_cost(site(), service(parallelSlots=1), moe, weights_only(int(10 * GB)))
    assert one.bytes_per_step == int(10 * GB * 0.1)
    many = estimate_cost(site(), service(parallelSlots=64), moe, weights_only(int(10 * GB)))
    assert many.bytes_per_step == int(10 * GB)  # never more than all the weights


def test_kv_reads_count_at_half_the_context():
    info = ModelInfo(
        total_bytes=int(10 * GB),
        block_count=32,
        head_count_kv=[8] * 32,
        key_length=128,
        value_length=128,
        context_length=32768,
    )
    c = estimate_cost(site(), service(parallelSlots=1, contextSize=8192), MODEL, info)
    kv = 4096 * 32 * 8 * (128 * 2 + 128 * 2)  # cells x layers x kv heads x (K + V bytes), f16
    assert c.bytes_per_step == int(10 * GB) + kv and not c.notes


def test_tensor_parallel_devices_add_bandwidth_a_llamacpp_layer_split_does_not():
    vllm = estimate_cost(
        site(),
        service(accelerator={"vendor": "nvidia", "count": 2, "product": "H100"}),
        MODEL,
        weights_only(int(10 * GB)),
    )
    gguf = estimate_cost(
        site(),
        service(runtime="llamacpp", accelerator={"vendor": "nvidia", "count": 2, "product": "H100"}),
        MODEL,
        weights_only(int(10 * GB)),
    )
    assert vllm.tokens_per_second == pytest.approx(2 * gguf.tokens_per_second)
    assert vllm.dollars_per_hour == gguf.dollars_per_hour == pytest.approx(2 * (1 + 0.3))


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"economics": None}, "declares no economics"),
        ({"accelerators": [{"name": "h100", "vendor": "nvidia", "product": "NVIDIA H100 80GB"}]}, "no economics"),
        (
            {
                "accelerators": [
                    {
                        "name": "x",
                        "vendor": "nvidia",
                        "product": "NVIDIA L40S",
                        "economics": {"priceDollars": 1, "powerWatts": 1},
                    }
                ]
            },
            "no published memory bandwidth",
        ),
    ],
)
def test_missing_facts_make_the_cost_unknown_with_the_reason(change, reason):
    raw = {**site().to_config(), **change}
    s = SiteSpec.model_validate({k: v for k, v in raw.items() if v is not None})
    svc = service(accelerator={"vendor": "nvidia"})
    c = estimate_cost(s, svc, MODEL, weights_only(int(10 * GB)))
    assert c.dollars_per_million is None and reason in c.unknown


def test_a_declared_bandwidth_prices_a_device_the_table_has_no_figure_for():
    assert lookup_accelerator("L40S").bandwidth_gb_s is None
    s = SiteSpec.model_validate(
        {
            **site().to_config(),
            "accelerators": [
                {
                    "name": "x",
                    "vendor": "nvidia",
                    "product": "NVIDIA L40S",
                    "economics": {"priceDollars": 8760, "amortisationYears": 1, "powerWatts": 1, "bandwidthGBs": 864},
                }
            ],
        }
    )
    c = estimate_cost(s, service(accelerator={"vendor": "nvidia"}), MODEL, weights_only(int(10 * GB)))
    assert c.bandwidth_gb_s == 864 and c.dollars_per_million is not None


def test_cpu_services_are_not_priced():
    svc = InferenceServiceSpec.model_validate(
        {"name": "c", "model": "m", "runtime": "llamacpp", "accelerator": {"vendor": "cpu"}}
    )
    assert "not priced" in estimate_cost(site(), svc, MODEL).unknown


def test_break_even_against_a_provider():
    c = estimate_cost(site(), service(), MODEL, weights_only(int(10 * GB)))
    local = c.dollars_per_million
    assert break_even(c, local)["utilisation"] == pytest.approx(1.0)
    cheap = break_even(c, local / 2)
    assert cheap["utilisation"] == pytest.approx(2.0) and not cheap["cheaperLocally"]
    dear = break_even(c, local * 4)
    assert dear["cheaperLocally"]
    assert dear["tokensPerMonth"] == pytest.approx(c.dollars_per_hour * 730 / (local * 4) * 1e6)


def test_routers_price_local_deployments_so_budgets_count_local_use():
    router = RouterSpec.model_validate(
        {
            "name": "gw",
            "masterKeySecret": {"name": "k", "key": "m"},
            "backends": [{"name": "local", "service": "chat"}],
            "modelGroups": [{"name": "chat", "backends": ["local"]}],
        }
    )
    svc = service()
    priced = plan_router(site(), router, [svc], {"chat": 2.5e-7})
    config = next(m for m in priced if m["kind"] == "ConfigMap" and "config.yaml" in m.get("data", {}))
    info = yaml.safe_load(config["data"]["config.yaml"])["model_list"][0]["model_info"]
    assert info["input_cost_per_token"] == info["output_cost_per_token"] == 2.5e-7
    unpriced = plan_router(site(), router, [svc])
    config = next(m for m in unpriced if m["kind"] == "ConfigMap" and "config.yaml" in m.get("data", {}))
    assert "output_cost_per_token" not in yaml.safe_load(config["data"]["config.yaml"])["model_list"][0]["model_info"]
