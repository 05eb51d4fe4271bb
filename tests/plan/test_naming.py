"""One owner per name: an inline model's object name and the served model name, everywhere they appear."""

from __future__ import annotations

import json

import yaml

from llmkube_iac.plan.stack import plan_stack, stack_models
from llmkube_iac.spec import load_stack_config
from llmkube_iac.spec.priority import PRIORITIES, PRIORITY_RANK, priority_class_name

ROUTER = {
    "name": "gw",
    "masterKeySecret": {"name": "gw-keys", "key": "master"},
    "backends": [{"name": "local", "service": "chat"}],
    "modelGroups": [{"name": "chat", "backends": ["local"]}],
}


def _stack(**service):
    return load_stack_config(
        {
            "site": {"name": "lab", "jurisdiction": "DE"},
            "services": [{"name": "chat", "model": {"source": "hf://org/tiny-GGUF/tiny-Q4_K_M.gguf"}, **service}],
            "routers": [ROUTER],
        }
    )


def _router_model(plan) -> str:
    cm = next(m for m in plan.routers["gw"] if m["kind"] == "ConfigMap" and m["metadata"]["name"] == "gw-config")
    return yaml.safe_load(cm["data"]["config.yaml"])["model_list"][0]["litellm_params"]["model"]


def test_unnamed_inline_model_is_service_model_everywhere():
    config = _stack()
    svc = config.services[0]
    assert svc.model_name == "chat-model" and list(stack_models(config)) == ["chat-model"]
    plan = plan_stack(config)
    pvc, job, policy = plan.models["chat-model"][1]
    assert pvc["metadata"]["name"] == "chat-model-cache" and job["metadata"]["name"].startswith("chat-model-fetch-")
    assert policy["kind"] == "NetworkPolicy" and policy["metadata"]["name"] == job["metadata"]["name"]
    deploy = next(m for m in plan.services["chat"].manifests if m["kind"] == "Deployment")
    pod = deploy["spec"]["template"]["spec"]
    assert deploy["metadata"]["labels"]["llmkube.dev/model"] == "chat-model"
    assert pod["volumes"][0]["persistentVolumeClaim"]["claimName"] == "chat-model-cache"
    args = pod["containers"][0]["args"]
    assert args[args.index("--alias") + 1] == "chat-model" == svc.served_model
    assert job["metadata"]["name"] in pod["initContainers"][0]["command"][-1]  # the init step names its Job
    assert _router_model(plan) == "openai/chat-model"  # the router asks for what the runtime serves


def test_served_model_name_overrides_runtime_and_router_alike():
    plan = plan_stack(_stack(engine={"servedModelName": "qwen-chat"}))
    args = next(m for m in plan.services["chat"].manifests if m["kind"] == "Deployment")["spec"]["template"]["spec"][
        "containers"
    ][0]["args"]
    assert args[args.index("--alias") + 1] == "qwen-chat" and _router_model(plan) == "openai/qwen-chat"
    assert "chat-model" in plan.models  # the object name is unchanged


def test_priorities_come_from_one_table():
    config = load_stack_config(
        {
            "site": {"name": "lab", "jurisdiction": "DE"},
            "models": [{"name": "m", "source": "pvc://models/m.gguf"}],
            "services": [{"name": p, "model": "m", "priority": p} for p in PRIORITIES],
        }
    )
    plan = plan_stack(config)
    classes = {m["metadata"]["name"]: m for m in plan.site if m["kind"] == "PriorityClass"}
    assert set(classes) == {priority_class_name(p) for p in PRIORITIES}
    for name, level in PRIORITIES.items():
        pc = classes[priority_class_name(name)]
        assert pc["value"] == level.class_value and ("preemptionPolicy" in pc) == (not level.preempts)
        deploy = next(m for m in plan.services[name].manifests if m["kind"] == "Deployment")
        assert deploy["spec"]["template"]["spec"]["priorityClassName"] == priority_class_name(name)
    values = [PRIORITIES[p].class_value for p in PRIORITIES]
    ranks = [PRIORITY_RANK[p] for p in PRIORITIES]
    assert values == sorted(values, reverse=True) and ranks == sorted(ranks, reverse=True)  # same order both ways
    assert ranks == [4, 3, 2, 1, 0]  # the metal-agent's eviction order: batch first, critical last


def test_metal_hosts_serve_the_name_the_router_asks_for():
    """A metal host's runtime answers to the same served name as a Kubernetes one, and caches under the
    model's object name."""
    config = load_stack_config(
        {
            "site": {
                "name": "edge",
                "jurisdiction": "DE",
                "metalHosts": [{"name": "mac", "chip": "M3 Ultra", "unifiedMemoryGiB": 192, "address": "10.0.0.9"}],
            },
            "services": [
                {
                    "name": "chat",
                    "runtime": "ollama",
                    "accelerator": {"vendor": "metal"},
                    "model": {"source": "hf://org/tiny-GGUF/tiny-Q4_K_M.gguf"},
                }
            ],
            "routers": [ROUTER],
        }
    )
    plan = plan_stack(config)
    cm = next(m for m in plan.metal if m["kind"] == "ConfigMap")
    state = json.loads(cm["data"]["desired-state.json"])["services"][0]
    assert state["args"][-1] == "chat-model" and state["healthPath"] == "/v1/models/chat-model"
    assert state["cacheKey"].startswith("chat-model/")
    assert _router_model(plan) == "openai/chat-model"
