"""Router planner and generated config: zones, secrets by reference, egress, schema validity."""

from __future__ import annotations

import json

import pytest
import yaml

from llmkube_iac.plan.errors import PlanError
from llmkube_iac.plan.router import plan_router, zone_urls
from llmkube_iac.plan.router_config import LITELLM_IMAGE, LITELLM_VERSION
from llmkube_iac.render.engine import render_program
from llmkube_iac.router_hooks import hook_sources
from llmkube_iac.spec import InferenceServiceSpec, SiteSpec, SpecError, load_stack_config
from llmkube_iac.spec.router import RouterSpec
from tests.conftest import ROOT
from tests.support.k8s_schema import validate_manifest

SITE = SiteSpec(name="dc", jurisdiction="DE", region="eu-central")
SERVICES = [InferenceServiceSpec.model_validate({"name": n, "model": "qwen"}) for n in ("chat-a", "chat-b")]
ROUTER = {
    "name": "gw",
    "masterKeySecret": {"name": "gw-keys", "key": "master"},
    "backends": [
        {"name": "local-a", "service": "chat-a"},
        {"name": "local-b", "service": "chat-b"},
        {
            "name": "oai",
            "provider": "openai",
            "model": "gpt-4o-mini",
            "region": "eu-west-1",
            "jurisdiction": "IE",
            "apiKeySecret": {"name": "gw-keys", "key": "openai"},
        },
    ],
    "modelGroups": [
        {"name": "chat", "backends": ["local-a", "local-b"], "fallbacks": ["cloud"]},
        {"name": "cloud", "backends": ["oai"]},
    ],
    "teams": [
        {"name": "app", "keySecret": {"name": "gw-keys", "key": "app"}, "rpm": 10, "zones": ["sovereign", "external"]},
        {"name": "lab", "keySecret": {"name": "gw-keys", "key": "lab"}},
    ],
}


def _plan(site=SITE, **changes):
    return plan_router(site, RouterSpec.model_validate({**ROUTER, **changes}), SERVICES)


def _get(ms, kind, name):
    return next(m for m in ms if m["kind"] == kind and m["metadata"]["name"] == name)


def _validate(m):
    validate_manifest(m)


def test_every_object_validates_with_and_without_tls():
    site_tls = SITE.model_copy(update={"cert_issuer": "internal-ca"})
    for ms in (
        _plan(),
        _plan(site_tls, autoscaling={"minReplicas": 2, "maxReplicas": 5}, audit={"volumeClaim": "audit-log"}),
    ):
        kinds = sorted({m["kind"] for m in ms})
        assert {"ConfigMap", "Deployment", "Service", "NetworkPolicy", "PodMonitor"} <= set(kinds)
        for m in ms:
            _validate(m)
    assert any(m["kind"] == "Certificate" for m in ms) and any(m["kind"] == "HorizontalPodAutoscaler" for m in ms)


def test_sovereign_zone_has_only_local_deployments_and_no_provider_key():
    ms = _plan()
    cm = _get(ms, "ConfigMap", "gw-config")
    config = yaml.safe_load(cm["data"]["config.yaml"])
    assert {d["model_info"]["llmkube_locality"] for d in config["model_list"]} == {"local"}
    assert "fallbacks" not in config["router_settings"]  # the cloud group is not in this zone
    env = _get(ms, "Deployment", "gw")["spec"]["template"]["spec"]["containers"][0]["env"]
    names = {e["name"] for e in env}
    assert not any(n.startswith("LLMKUBE_PROVIDER_KEY") for n in names)
    assert "LLMKUBE_TEAM_KEY_APP" in names and "LLMKUBE_TEAM_KEY_LAB" in names
    ext_env = _get(ms, "Deployment", "gw-external")["spec"]["template"]["spec"]["containers"][0]["env"]
    ext_names = {e["name"] for e in ext_env}
    assert "LLMKUBE_PROVIDER_KEY_OAI" in ext_names and "LLMKUBE_TEAM_KEY_LAB" not in ext_names  # lab: sovereign only


def test_secrets_are_references_only():
    ms = _plan()
    text = json.dumps(ms)
    for m in ms:
        if m["kind"] == "Deployment":
            for e in m["spec"]["template"]["spec"]["containers"][0]["env"]:
                if "KEY" in e["name"]:
                    assert "valueFrom" in e and "value" not in e, e
    assert "sk-" not in text.replace("sk-llmkube-local", "")


def test_external_zone_config_and_rules():
    ms = _plan()
    cm = _get(ms, "ConfigMap", "gw-external-config")
    config = yaml.safe_load(cm["data"]["config.yaml"])
    assert config["router_settings"]["fallbacks"] == [{"chat": ["cloud"]}]
    assert config["general_settings"]["custom_auth"] == "llmkube_auth.user_api_key_auth"
    assert config["litellm_settings"]["callbacks"] == ["llmkube_guard.guard"]
    rules = json.loads(cm["data"]["llmkube_router.json"])
    oai = next(d for d in rules["deployments"] if d["backend"] == "oai")
    assert oai == {
        **oai,
        "locality": "external",
        "maxClass": "public",
        "jurisdiction": "IE",
        "apiBase": "https://api.openai.com/v1",
        "apiBaseEnv": "LLMKUBE_UPSTREAM_OAI",
    }
    assert not any(p.startswith("/openai") for p in rules["allowedPaths"])
    for name, source in hook_sources().items():
        assert cm["data"][name] == source


def test_no_phone_home_and_pinned_image():
    dep = _get(_plan(), "Deployment", "gw")
    c = dep["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in c["env"]}
    assert env["LITELLM_LOCAL_MODEL_COST_MAP"] == "True" and env["LITELLM_TELEMETRY"] == "False"
    assert c["image"] == LITELLM_IMAGE and LITELLM_VERSION in LITELLM_IMAGE
    assert c["securityContext"]["readOnlyRootFilesystem"] and c["securityContext"]["runAsNonRoot"]
    assert dep["spec"]["template"]["metadata"]["labels"]["llmkube.dev/role"] == "router"


def test_egress_sovereign_only_to_inference_pods_and_dns():
    ms = _plan()
    sov = _get(ms, "NetworkPolicy", "gw")["spec"]["egress"]
    assert not any("ipBlock" in peer for rule in sov for peer in rule["to"])
    targets = [
        peer["podSelector"]["matchExpressions"][0]["values"]
        for rule in sov
        for peer in rule["to"]
        if "podSelector" in peer and "namespaceSelector" not in peer
    ]  # in-namespace pods (not DNS)
    assert targets == [["chat-a", "chat-b"]]
    ext = _get(ms, "NetworkPolicy", "gw-external")["spec"]["egress"]
    blocks = [peer["ipBlock"] for rule in ext for peer in rule["to"] if "ipBlock" in peer]
    assert blocks and "10.0.0.0/8" in blocks[0]["except"]


def test_unknown_service_and_bad_specs_name_the_field():
    with pytest.raises(PlanError, match=r"backends\[0\]\.service"):
        plan_router(SITE, RouterSpec.model_validate(ROUTER), SERVICES[1:])
    with pytest.raises(ValueError, match="unknown backend 'nope'"):
        RouterSpec.model_validate({**ROUTER, "modelGroups": [{"name": "chat", "backends": ["nope"]}]})
    with pytest.raises(ValueError, match="openai-compatible needs apiBase"):
        RouterSpec.model_validate(
            {
                **ROUTER,
                "backends": [
                    {
                        "name": "x",
                        "provider": "openai-compatible",
                        "model": "m",
                        "region": "r",
                        "jurisdiction": "US",
                        "apiKeySecret": {"name": "s", "key": "k"},
                    }
                ],
            }
        )
    with pytest.raises(ValueError, match="pass-through"):
        RouterSpec.model_validate({**ROUTER, "allowedPaths": ["/v1/chat/completions", "/anthropic/v1/messages"]})
    with pytest.raises(ValueError, match="no external zone"):
        RouterSpec.model_validate(
            {**ROUTER, "backends": ROUTER["backends"][:2], "modelGroups": [{"name": "chat", "backends": ["local-a"]}]}
        )


def test_stack_config_checks_router_references():
    with pytest.raises(SpecError, match=r"routers\[0\]\.backends\[1\]\.service: unknown service 'chat-b'"):
        load_stack_config(
            {
                "site": {"name": "dc", "jurisdiction": "DE"},
                "services": [{"name": "chat-a", "model": {"name": "m", "source": "hf://o/r/m.gguf"}}],
                "routers": [{**ROUTER, "teams": []}],
            }
        )


def test_zone_urls():
    router = RouterSpec.model_validate(ROUTER)
    assert zone_urls(SITE, router) == {
        "sovereign": "http://gw.llmkube.svc.cluster.local:4000/v1",
        "external": "http://gw-external.llmkube.svc.cluster.local:4000/v1",
    }


def test_example_renders_both_zones(tmp_path):
    result = render_program(ROOT / "examples" / "router", None, tmp_path, evaluate_policies=False)
    files = sorted(tmp_path.glob("*/1-manifest/*gw*.yaml"))
    names = {(m["kind"], m["metadata"]["name"]) for m in (yaml.safe_load(f.read_text()) for f in files)}
    assert {("Deployment", "gw"), ("Deployment", "gw-external"), ("Certificate", "gw-tls")} <= names
    for f in files:
        _validate(yaml.safe_load(f.read_text()))
    assert result.manifests
