"""Security findings of the planners, each pinned by a test that fails if it comes back (pure, no Pulumi).

Device isolation, /slots, who may reach a model port, what a model server may reach, RBAC of metal
agents, the gateway's priority and identity, download Jobs. Scanner-level checks (checkov over every
render) live in tests/render/test_checkov.py.
"""
from __future__ import annotations

import pytest

from llmkube_iac.hardware import VENDORS, device_env
from llmkube_iac.plan.stack import plan_stack
from llmkube_iac.spec import load_stack_config
from tests.conftest import minimal_stack

# What the vendors' device plugins set for the devices they allocate: a pod's own env would override them.
PLUGIN_ENV = {"NVIDIA_VISIBLE_DEVICES", "HABANA_VISIBLE_DEVICES", "HABANA_VISIBLE_MODULES", "HL_VISIBLE_DEVICES",
              "HL_VISIBLE_DEVICES_UUID"}


def by_kind(manifests, kind):
    return [m for m in manifests if m["kind"] == kind]


def pod_env(deploy) -> dict:
    return {e["name"]: e.get("value") for e in deploy["spec"]["template"]["spec"]["containers"][0]["env"]}


@pytest.mark.parametrize("name", sorted(VENDORS))
@pytest.mark.parametrize("count", [1, 2, 8])
def test_no_vendor_overrides_what_its_device_plugin_assigns(name, count):
    env = device_env(VENDORS[name], count)
    assert not PLUGIN_ENV & set(env), f"{name} sets {PLUGIN_ENV & set(env)}"
    assert "all" not in {v.lower() for v in env.values()}


def test_gaudi_pods_see_only_the_cards_the_plugin_allocated():
    raw = minimal_stack()
    raw["services"][0].update(runtime="vllm", accelerator={"vendor": "intel-gaudi", "count": 8})
    deploy = by_kind(plan_stack(load_stack_config(raw)).services["chat"].manifests, "Deployment")[0]
    assert "HABANA_VISIBLE_DEVICES" not in pod_env(deploy)


@pytest.mark.parametrize("vendor", ["cpu", "nvidia", "amd", "intel-xpu"])
def test_llamacpp_pods_serve_no_slots_endpoint(vendor):
    raw = minimal_stack()
    raw["services"][0].update(accelerator={"vendor": vendor, "count": 1})
    deploy = by_kind(plan_stack(load_stack_config(raw)).services["chat"].manifests, "Deployment")[0]
    args = deploy["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--no-slots" in args and "--slots" not in args
