"""plan_metal: the cluster side of metal hosts, schema-valid and least-privilege."""

from __future__ import annotations

import json

import pytest

from llmkube_iac.plan.errors import PlanError
from llmkube_iac.plan.metal import plan_metal
from llmkube_iac.plan.stack import plan_stack
from llmkube_iac.spec import InferenceServiceSpec, ModelSpec, SiteSpec, StackConfig
from llmkube_iac.spec.metal import DESIRED_STATE_KEY, VERSION_KEY, DesiredState
from tests.support.k8s_schema import validate_manifest

SITE = {
    "name": "edge",
    "jurisdiction": "DE",
    "metalHosts": [
        {"name": "studio-1", "chip": "M3 Ultra", "unifiedMemoryGiB": 192, "address": "10.0.0.11"},
        {"name": "studio-2", "chip": "M3 Ultra", "unifiedMemoryGiB": 96, "usableFraction": 0.5, "address": "10.0.0.12"},
    ],
}
MODEL = ModelSpec(name="qwen", source="hf://Qwen/Qwen3-8B-GGUF/Qwen3-8B-Q4_K_M.gguf", sha256="ab" * 32, sizeGiB=5)


def svc(name="chat", **kw) -> InferenceServiceSpec:
    return InferenceServiceSpec.model_validate(
        {"name": name, "model": "qwen", "accelerator": {"vendor": "metal"}, **kw}
    )


def by_kind(manifests, kind):
    return [m for m in manifests if m["kind"] == kind]


def test_manifests_validate_against_kubernetes_1_30():
    out = plan_metal(
        SiteSpec.model_validate(SITE),
        [(svc(), MODEL), (svc("embed", mode="embedding", endpoint={"port": 8081}), MODEL)],
    )
    for m in out:
        validate_manifest(m)
        assert m["metadata"]["namespace"] == "llmkube"
        assert m["metadata"]["labels"]["app.kubernetes.io/part-of"] == "llmkube"
    assert sorted(m["kind"] for m in out).count("ConfigMap") == 2


def test_selector_less_service_and_desired_state_contract():
    out = plan_metal(SiteSpec.model_validate(SITE), [(svc(contextSize=8192), MODEL)])
    service = by_kind(out, "Service")[0]
    assert "selector" not in service["spec"] and service["spec"]["ports"][0]["port"] == 8080
    cm = next(m for m in by_kind(out, "ConfigMap") if m["metadata"]["name"] == "studio-2-metal-desired")
    state = DesiredState.model_validate(json.loads(cm["data"][DESIRED_STATE_KEY]))
    assert cm["data"][VERSION_KEY] == state.version_hash()
    assert state.memory_budget_bytes == 48 * 1024**3 and state.address == "10.0.0.12"
    chat = state.services[0]
    assert chat.runtime == "llama-server" and chat.sha256 == "ab" * 32 and chat.port == 8080
    assert ["--host", "{host}", "--port", "{port}"] == list(chat.args[2:6]) and "--ctx-size" in chat.args
    assert chat.service["model"]["name"] == "qwen"  # the fit estimator gets the full specs


def test_role_is_limited_to_the_hosts_own_objects():
    out = plan_metal(SiteSpec.model_validate(SITE), [(svc(), MODEL)])
    role = next(m for m in by_kind(out, "Role") if m["metadata"]["name"] == "studio-1-metal-agent")
    named = {r["resources"][0]: r["resourceNames"] for r in role["rules"] if "resourceNames" in r}
    assert named == {
        "configmaps": ["studio-1-metal-desired"],
        "leases": ["studio-1-metal-agent"],
        "endpointslices": ["chat-studio-1"],
        "secrets": ["chat-api-key"],
    }
    verbs = {r["resources"][0]: r["verbs"] for r in role["rules"]}
    assert verbs["endpointslices"] == ["get", "update", "patch"]  # Pulumi creates them; no create, no delete
    assert verbs["secrets"] == ["get"]
    unnamed = [r for r in role["rules"] if "resourceNames" not in r]
    assert unnamed == [{"apiGroups": [""], "resources": ["events"], "verbs": ["create"]}]
    binding = next(m for m in by_kind(out, "RoleBinding") if m["metadata"]["name"] == "studio-1-metal-agent")
    assert binding["subjects"][0]["name"] == "studio-1-metal-agent"
    assert {m["metadata"]["name"] for m in by_kind(out, "Lease")} == {"studio-1-metal-agent", "studio-2-metal-agent"}
    alerts = by_kind(out, "PrometheusRule")[0]["spec"]["groups"][0]["rules"]
    assert {a["labels"]["metal_host"] for a in alerts} == {"studio-1", "studio-2"}
    assert all("absent(" in a["expr"] for a in alerts)


def test_every_slice_an_agent_may_update_is_created_by_pulumi_not_ready():
    out = plan_metal(SiteSpec.model_validate(SITE), [(svc(), MODEL)])
    slices = {m["metadata"]["name"]: m for m in by_kind(out, "EndpointSlice")}
    for role in by_kind(out, "Role"):
        named = next(r["resourceNames"] for r in role["rules"] if r["resources"] == ["endpointslices"])
        assert set(named) <= set(slices)
    es = slices["chat-studio-2"]
    assert es["metadata"]["labels"]["kubernetes.io/service-name"] == "chat"
    assert es["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"] == "llmkube-metal-agent"
    assert es["addressType"] == "IPv4" and es["endpoints"][0]["addresses"] == ["10.0.0.12"]
    assert es["endpoints"][0]["conditions"]["ready"] is False and es["ports"][0]["port"] == 8080


def test_hosts_subset_and_errors_name_the_field():
    site = SiteSpec.model_validate(SITE)
    out = plan_metal(site, [(svc(hosts=["studio-2"]), MODEL)])
    states = {m["metadata"]["name"]: json.loads(m["data"][DESIRED_STATE_KEY]) for m in by_kind(out, "ConfigMap")}
    assert states["studio-1-metal-desired"].get("services", []) == []
    assert len(states["studio-2-metal-desired"]["services"]) == 1
    with pytest.raises(PlanError, match=r"services\[chat\]\.hosts.*studio-9.*studio-1, studio-2"):
        plan_metal(site, [(svc(hosts=["studio-9"]), MODEL)])
    with pytest.raises(PlanError, match=r"endpoint\.port.*8080.*already used by chat"):
        plan_metal(site, [(svc(), MODEL), (svc("other"), MODEL)])
    with pytest.raises(PlanError, match="metalHosts"):
        plan_metal(SiteSpec(name="bare", jurisdiction="DE"), [(svc(), MODEL)])


def test_site_planner_plans_metal_services():
    config = StackConfig.model_validate({"site": SITE, "models": [MODEL.to_config()], "services": [svc().to_config()]})
    plan = plan_stack(config)
    kinds = {m["kind"] for m in plan.metal}
    assert {"ConfigMap", "Role", "Lease", "PrometheusRule"} <= kinds
    # the service's own selector-less Service goes with its InferenceService component
    own = plan.services["chat"].manifests
    assert [(m["kind"], m["metadata"]["name"]) for m in own] == [("Service", "chat")]
    assert "selector" not in own[0]["spec"]
    assert plan.services["chat"].base_url == "http://chat.llmkube.svc.cluster.local:8080/v1"
    assert "qwen" not in plan.models  # only metal hosts use it: no download Job / PVC in the cluster


def test_ollama_state_registers_the_model_and_checks_its_route():
    state = plan_metal(SiteSpec.model_validate(SITE), [(svc(runtime="ollama"), MODEL)])
    cm = next(m for m in by_kind(state, "ConfigMap") if m["metadata"]["name"] == "studio-1-metal-desired")
    service = DesiredState.model_validate(json.loads(cm["data"][DESIRED_STATE_KEY])).services[0]
    # registered under the served model name (the model's name): what a router asks the host for
    assert service.runtime == "ollama" and service.args == ("{model}", "qwen")
    assert service.health_path == "/v1/models/qwen"


MLX = ModelSpec(name="qwen-mlx", source="hf://mlx-community/Qwen3-8B-4bit", sizeGiB=4.3)


def state_of(out, host="studio-1"):
    cm = next(m for m in by_kind(out, "ConfigMap") if m["metadata"]["name"] == f"{host}-metal-desired")
    return DesiredState.model_validate(json.loads(cm["data"][DESIRED_STATE_KEY]))


def test_mlx_state_runs_mlx_lm_on_the_fetched_directory():
    service = svc(runtime="mlx", model="qwen-mlx", extraArgs=["--max-tokens", "2048"], engine={"trustRemoteCode": True})
    state = state_of(plan_metal(SiteSpec.model_validate(SITE), [(service, MLX)])).services[0]
    assert state.runtime == "mlx-lm" and state.source == "hf://mlx-community/Qwen3-8B-4bit"
    assert state.args == (
        "--model",
        "{model}",
        "--host",
        "{host}",
        "--port",
        "{port}",
        "--trust-remote-code",
        "--max-tokens",
        "2048",
    )
    assert state.health_path == "/health" and state.memory_estimate_bytes == int(4.3 * 1024**3)
    assert state.service["runtime"] == "mlx"


def test_mlx_behind_a_router_is_asked_for_the_one_name_it_serves():
    from llmkube_iac.plan.router_config import served_model

    assert served_model(svc(runtime="mlx", model="qwen-mlx")) == "default_model"
    assert served_model(svc(model="qwen")) == "qwen"


def test_a_native_runtime_is_refused_weights_it_cannot_open():
    site = SiteSpec.model_validate(SITE)
    with pytest.raises(
        PlanError,
        match=r"services\[chat\]\.model.*mlx on metal hosts opens mlx or safetensors "
        r"weights, not gguf",
    ):
        plan_metal(site, [(svc(runtime="mlx"), MODEL)])
    with pytest.raises(PlanError, match=r"llamacpp on metal hosts opens gguf weights, not safetensors"):
        plan_metal(site, [(svc(model="qwen-mlx"), MLX)])


def test_metal_services_with_mlx_plan_through_the_whole_stack():
    config = StackConfig.model_validate(
        {"site": SITE, "models": [MLX.to_config()], "services": [svc(runtime="mlx", model="qwen-mlx").to_config()]}
    )
    plan = plan_stack(config)
    states = [
        DesiredState.model_validate(json.loads(m["data"][DESIRED_STATE_KEY]))
        for m in plan.metal
        if m["kind"] == "ConfigMap"
    ]
    assert [s.services[0].runtime for s in states] == ["mlx-lm", "mlx-lm"]
    assert all(m["metadata"]["labels"]["llmkube.dev/vendor"] == "metal" for m in plan.metal)
    assert "qwen-mlx" not in plan.models  # the agents fetch it; no download Job in the cluster


def test_metal_cache_entry_follows_the_pinned_commit():
    """Metal hosts fetch the model themselves: a pinned hf:// commit names their cache entry, so a new
    upstream commit is fetched into a new entry instead of reusing the old weights."""
    from llmkube_iac.plan.metal import service_state

    svc = InferenceServiceSpec.model_validate({"name": "chat", "model": "m", "accelerator": {"vendor": "metal"}})
    base = "hf://Qwen/Q-GGUF{}/q.gguf"
    keys = [
        service_state(svc, ModelSpec(name="m", source=base.format(rev))).cache_key
        for rev in ("", "@main", "@" + "ab" * 20, "@" + "cd" * 20)
    ]
    assert keys[:2] == ["m/unpinned", "m/unpinned"] and keys[2] == "m/" + "ab" * 8 and keys[3] == "m/" + "cd" * 8
    assert (
        service_state(svc, ModelSpec(name="m", source=base.format("@" + "ab" * 20), sha256="e" * 64)).cache_key
        == "m/" + "e" * 16
    )
