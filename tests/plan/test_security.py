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
PLUGIN_ENV = {
    "NVIDIA_VISIBLE_DEVICES",
    "HABANA_VISIBLE_DEVICES",
    "HABANA_VISIBLE_MODULES",
    "HL_VISIBLE_DEVICES",
    "HL_VISIBLE_DEVICES_UUID",
}


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


def _router_stack(classification="restricted", external=True) -> dict:
    raw = minimal_stack()
    raw["services"][0]["classification"] = classification
    raw["services"].append({"name": "other", "model": "tiny", "classification": "internal"})
    backends = [{"name": "local", "service": "chat"}]
    groups = [{"name": "chat", "backends": ["local"]}]
    if external:
        backends.append(
            {
                "name": "cloud",
                "provider": "openai",
                "model": "gpt-4o-mini",
                "region": "eu-west-1",
                "jurisdiction": "IE",
                "apiKeySecret": {"name": "gw-provider", "key": "openai"},
            }
        )
        groups.append({"name": "cloud", "backends": ["cloud"]})
    raw["routers"] = [
        {
            "name": "gw",
            "masterKeySecret": {"name": "gw-keys", "key": "master"},
            "backends": backends,
            "modelGroups": groups,
        }
    ]
    return raw


def _policy(plan, service):
    return by_kind(plan.services[service].manifests, "NetworkPolicy")[0]["spec"]


def test_model_port_admits_each_routing_zone_by_router_and_zone_never_the_generic_router_label():
    plan = plan_stack(load_stack_config(_router_stack()))
    peers = _policy(plan, "chat")["ingress"][0]["from"]
    routers = [p["podSelector"]["matchLabels"] for p in peers if "llmkube.dev/role" in p["podSelector"]["matchLabels"]]
    assert routers == [
        {"llmkube.dev/role": "router", "llmkube.dev/router": "gw", "llmkube.dev/zone": "sovereign"},
        {"llmkube.dev/role": "router", "llmkube.dev/router": "gw", "llmkube.dev/zone": "external"},
    ]
    # the labels admitted are the labels the zones' pods carry
    for zone in ("gw", "gw-external"):
        deploy = next(m for m in plan.routers["gw"] if m["kind"] == "Deployment" and m["metadata"]["name"] == zone)
        pod_labels = deploy["spec"]["template"]["metadata"]["labels"]
        assert any(r.items() <= pod_labels.items() for r in routers)
    # a service no router uses admits no router at all
    other = _policy(plan, "other")["ingress"][0]["from"]
    assert not [p for p in other if "llmkube.dev/role" in p["podSelector"]["matchLabels"]]


def test_metrics_port_admits_only_prometheus_pods_of_the_monitoring_namespace():
    raw = _router_stack()
    plan = plan_stack(load_stack_config(raw))
    scrape = _policy(plan, "chat")["ingress"][1]["from"]
    assert scrape == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
        }
    ]
    router_np = next(m for m in plan.routers["gw"] if m["kind"] == "NetworkPolicy")["spec"]
    assert router_np["ingress"][1]["from"] == scrape
    raw["site"]["monitoring"] = {"prometheusPodLabels": {"prometheus": "k8s"}}
    scrape = _policy(plan_stack(load_stack_config(raw)), "chat")["ingress"][1]["from"]
    assert scrape[0]["podSelector"] == {"matchLabels": {"prometheus": "k8s"}}


@pytest.mark.parametrize(
    "classification, denied", [("public", False), ("internal", False), ("confidential", True), ("restricted", True)]
)
def test_confidential_and_restricted_model_servers_may_reach_nothing(classification, denied):
    spec = _policy(plan_stack(load_stack_config(_router_stack(classification))), "chat")
    if denied:
        assert spec["policyTypes"] == ["Ingress", "Egress"] and spec["egress"] == []
    else:
        assert spec["policyTypes"] == ["Ingress"] and "egress" not in spec


def test_routers_run_above_every_inference_priority_under_their_own_identity_per_zone():
    raw = _router_stack()
    raw["services"][0]["priority"] = "critical"
    plan = plan_stack(load_stack_config(raw))
    classes = {m["metadata"]["name"]: m["value"] for m in by_kind(plan.site, "PriorityClass")}
    deploys = by_kind(plan.routers["gw"], "Deployment")
    assert len(deploys) == 2
    for d in deploys:
        pod = d["spec"]["template"]["spec"]
        assert classes[pod["priorityClassName"]] > max(v for n, v in classes.items() if n != pod["priorityClassName"])
        assert pod["serviceAccountName"] == d["metadata"]["name"]  # gw and gw-external: one identity each
        assert pod["containers"][0]["resources"]["limits"]["cpu"] == "1000m"
    accounts = {m["metadata"]["name"] for m in by_kind(plan.routers["gw"], "ServiceAccount")}
    assert accounts == {"gw", "gw-external"}
    # no router, no gateway class
    assert "llmkube-gateway" not in {
        m["metadata"]["name"] for m in by_kind(plan_stack(load_stack_config(minimal_stack())).site, "PriorityClass")
    }


def _download(raw):
    _, manifests = plan_stack(load_stack_config(raw)).models["tiny"]
    job = by_kind(manifests, "Job")[0]
    return job, by_kind(manifests, "NetworkPolicy")[0]["spec"]


def _egress_ports(policy):
    return [sorted(p["port"] for p in rule["ports"]) for rule in policy["egress"]]


def test_download_jobs_have_a_deadline_and_a_policy_selecting_them():
    job, policy = _download(minimal_stack())
    assert 0 < job["spec"]["activeDeadlineSeconds"] <= 24 * 3600
    pod_labels = job["spec"]["template"]["metadata"]["labels"]
    assert policy["podSelector"]["matchLabels"].items() <= pod_labels.items()
    assert policy["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "model-download"
    assert policy["policyTypes"] == ["Ingress", "Egress"] and policy["ingress"] == []


def test_download_job_egress_is_dns_and_the_stores_port_only():
    job, policy = _download(minimal_stack())  # hf:// from the Hub: 443 anywhere but link-local
    assert _egress_ports(policy) == [[53, 53], [443]]
    dns = policy["egress"][0]["to"][0]
    assert dns["podSelector"] == {"matchLabels": {"k8s-app": "kube-dns"}}
    anywhere = [p["ipBlock"] for p in policy["egress"][1]["to"]]
    assert all(b["except"] for b in anywhere)  # never the metadata endpoint
    raw = minimal_stack()
    raw["site"].update(hfEndpoint="http://hf-mirror.site.local:8088", network={"egressAllowCIDRs": ["10.9.0.0/16"]})
    _, policy = _download(raw)
    assert _egress_ports(policy) == [[53, 53], [8088]]
    assert policy["egress"][1]["to"] == [{"ipBlock": {"cidr": "10.9.0.0/16"}}]
    raw = minimal_stack()
    raw["models"][0]["source"] = "https://models.site.local:8443/qwen/tiny.gguf"
    raw["site"]["network"] = {"defaultDenyEgress": True}  # the site's own policy decides: nothing added but DNS
    _, policy = _download(raw)
    assert _egress_ports(policy) == [[53, 53]]


METAL_SITE = {
    "name": "edge",
    "jurisdiction": "DE",
    "metalHosts": [{"name": "studio-1", "chip": "M3 Ultra", "unifiedMemoryGiB": 192, "address": "10.0.0.11"}],
}


def _metal_stack(runtime="llamacpp", key_secret=None) -> dict:
    service = {
        "name": "chat",
        "model": "tiny",
        "runtime": runtime,
        "accelerator": {"vendor": "metal"},
        "classification": "confidential",
    }
    if key_secret:
        service["endpoint"] = {"apiKeySecret": key_secret}
    return {
        "site": METAL_SITE,
        "models": minimal_stack()["models"],
        "services": [service],
        "routers": [
            {
                "name": "gw",
                "masterKeySecret": {"name": "gw-keys", "key": "master"},
                "backends": [{"name": "macs", "service": "chat"}],
                "modelGroups": [{"name": "chat", "backends": ["macs"]}],
            }
        ],
    }


def _desired(plan):
    import json

    from llmkube_iac.spec.metal import DESIRED_STATE_KEY, DesiredState

    cm = next(m for m in plan.metal if m["kind"] == "ConfigMap")
    return DesiredState.model_validate(json.loads(cm["data"][DESIRED_STATE_KEY])).services[0]


def test_metal_llama_server_demands_a_key_only_the_router_and_the_hosts_agent_may_read():
    plan = plan_stack(load_stack_config(_metal_stack()))
    state = _desired(plan)
    args = list(state.args)
    assert "--no-slots" in args and args[args.index("--api-key-file") + 1] == "{api_key_file}"
    assert args[args.index("--host") + 1] == "{host}"  # the host's declared address, never a wildcard
    assert (state.api_key_secret.name, state.api_key_secret.key) == ("chat-api-key", "api-key")
    role = next(m for m in plan.metal if m["kind"] == "Role")
    assert {"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["chat-api-key"], "verbs": ["get"]} in role[
        "rules"
    ]
    # the router sends it: LiteLLM reads it from an env var backed by that Secret, in every zone routing there
    import yaml

    deploy = next(m for m in plan.routers["gw"] if m["kind"] == "Deployment")
    env = {e["name"]: e for e in deploy["spec"]["template"]["spec"]["containers"][0]["env"]}
    ref = env["LLMKUBE_BACKEND_KEY_MACS"]["valueFrom"]["secretKeyRef"]
    assert ref == {"name": "chat-api-key", "key": "api-key"}
    cm = next(m for m in plan.routers["gw"] if m["kind"] == "ConfigMap")
    params = yaml.safe_load(cm["data"]["config.yaml"])["model_list"][0]["litellm_params"]
    assert params["api_key"] == "os.environ/LLMKUBE_BACKEND_KEY_MACS"


def test_metal_api_key_secret_is_configurable_but_never_a_router_secret():
    plan = plan_stack(load_stack_config(_metal_stack(key_secret={"name": "macs-key", "key": "k"})))
    assert _desired(plan).api_key_secret.name == "macs-key"
    from llmkube_iac.plan.errors import PlanError

    with pytest.raises(PlanError, match=r"services\[0\]\.endpoint\.apiKeySecret.*gw-keys.*router gw"):
        plan_stack(load_stack_config(_metal_stack(key_secret={"name": "gw-keys", "key": "macs"})))


def test_metal_runtimes_without_key_support_carry_no_key_and_the_router_sends_none():
    plan = plan_stack(load_stack_config(_metal_stack(runtime="ollama")))
    assert _desired(plan).api_key_secret is None
    role = next(m for m in plan.metal if m["kind"] == "Role")
    assert not [r for r in role["rules"] if r["resources"] == ["secrets"]]
    deploy = next(m for m in plan.routers["gw"] if m["kind"] == "Deployment")
    assert not [
        e
        for e in deploy["spec"]["template"]["spec"]["containers"][0]["env"]
        if e["name"].startswith("LLMKUBE_BACKEND_KEY_")
    ]


DIGEST = "sha256:" + "3f" * 32


def _workloads(plan):
    return [m for m in plan.all_manifests() if m["kind"] in ("Deployment", "Job")]


def _images(m):
    from llmkube_iac.plan.images import images_of, pod_spec_of

    return images_of(pod_spec_of(m))


def _skips(m) -> dict:
    notes = m["metadata"].get("annotations") or {}
    return dict(v.split("=", 1) for k, v in notes.items() if k.startswith("checkov.io/skip"))


def test_image_digests_pin_exactly_the_rendered_references_after_the_mirrors():
    raw = minimal_stack()
    raw["site"]["registryMirrors"] = [{"source": "ghcr.io", "mirror": "mirror.site.local/ghcr"}]
    refs = sorted({i for m in _workloads(plan_stack(load_stack_config(raw))) for i in _images(m)})
    assert refs and all(i.startswith("mirror.site.local/ghcr/") for i in refs)
    raw["site"]["imageDigests"] = {refs[0]: DIGEST}
    plan = plan_stack(load_stack_config(raw))
    pinned = {i for m in _workloads(plan) for i in _images(m)}
    assert f"{refs[0]}@{DIGEST}" in pinned and set(refs[1:]) <= pinned  # only what the map names


@pytest.mark.parametrize("site, skipped", [({}, True), ({"production": True}, False)])
def test_tag_only_images_carry_the_pin_workflow_skip_only_where_pinning_is_advisory(site, skipped):
    raw = minimal_stack()
    raw["site"].update(site)
    workloads = _workloads(plan_stack(load_stack_config(raw)))
    assert workloads
    for m in workloads:
        skips = _skips(m)
        if skipped:
            assert {"CKV_K8S_43", "CKV_K8S_15"} <= set(skips) and "llmkube-iac pin" in skips["CKV_K8S_43"]
        else:
            assert not {"CKV_K8S_43", "CKV_K8S_15"} & set(skips)
    # fully pinned: nothing to skip
    refs = {i for m in workloads for i in _images(m)}
    raw["site"]["imageDigests"] = {r: DIGEST for r in refs}
    for m in _workloads(plan_stack(load_stack_config(raw))):
        assert all("@sha256:" in i for i in _images(m)) and not {"CKV_K8S_43", "CKV_K8S_15"} & set(_skips(m))


@pytest.mark.parametrize(
    "digests",
    [
        {"ghcr.io/a/b:1": "sha256:abc"},
        {"ghcr.io/a/b:1@sha256:" + "0" * 64: DIGEST},
        {"ghcr.io/a/b:1": "md5:" + "0" * 64},
    ],
)
def test_image_digests_are_refused_unless_well_formed(digests):
    from llmkube_iac.spec import SpecError

    raw = minimal_stack()
    raw["site"]["imageDigests"] = digests
    with pytest.raises(SpecError, match="imageDigests"):
        load_stack_config(raw)


def test_production_sites_make_image_pinning_mandatory():
    from llmkube_iac.spec import SiteSpec

    assert SiteSpec(name="a", jurisdiction="DE", production=True).requires_pinned_images
    assert not SiteSpec(name="a", jurisdiction="DE").requires_pinned_images


def test_every_scanner_skip_is_justified_and_listed_in_the_docs():
    from pathlib import Path

    from llmkube_iac.plan.scanner import ALL_SKIPS

    doc = (Path(__file__).resolve().parents[2] / "docs" / "security.md").read_text()
    for purpose, checks in ALL_SKIPS.items():
        for check, reason in checks.items():
            assert "=" not in reason and len(reason) > 40
            assert check in doc and reason in " ".join(doc.split()), f"docs/security.md lacks {check} ({purpose})"
