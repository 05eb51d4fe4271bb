"""The datacenter stack with every fleet add-on, SLOs and teams, rendered through the real components:
cert-manager registers as the provider-side CertManager component, everything validates, objects
wait for the add-on that provides their CRDs, and plan.json lists each add-on with its site."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from llmkube_iac.render.engine import render_program
from tests.conftest import ROOT
from tests.support.k8s_schema import validate_manifest

ADDONS = {"certManager": True, "monitoring": True, "pyrra": True, "kueue": True, "metricsExporters": True}
TEAMS = [
    {"name": "search", "devices": [{"vendor": "nvidia", "pool": "h100", "count": 8}], "priority": "high"},
    {"name": "research", "devices": [{"vendor": "amd", "count": 8}]},
]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    program = tmp_path_factory.mktemp("dc-fleet")
    shutil.copytree(ROOT / "stacks", program, dirs_exist_ok=True)
    (program / "Pulumi.yaml").write_text("name: llmkube-dc-fleet\nruntime: python\n")
    stack = yaml.safe_load((program / "Pulumi.dc.yaml").read_text())
    cfg = stack["config"]
    cfg["llmkube:site"]["addons"] = ADDONS
    cfg["llmkube:site"].pop("clusterProvides", None)  # the site installs the Prometheus operator and cert-manager
    cfg["llmkube:site"]["certIssuer"] = "internal-ca"
    # an Intel GPU pool beside the stack's NVIDIA, AMD and Gaudi ones: its exporter is a chart of its own
    cfg["llmkube:site"]["accelerators"].append(
        {"name": "arc", "vendor": "intel-xpu", "devicesPerNode": 2, "nodeCount": 1, "nodeLabels": {"pool": "arc"}}
    )
    cfg["llmkube:teams"] = TEAMS
    cfg["llmkube:services"][0]["team"] = "search"
    # a TGI and an SGLang service asking for objectives: their runtimes' series are in the table
    model = cfg["llmkube:services"][0]["model"]
    for name, rt in (("tgi-chat", "tgi"), ("sglang-chat", "sglang")):
        cfg["llmkube:services"].append(
            {"name": name, "model": model, "runtime": rt, "accelerator": {"vendor": "nvidia", "count": 1}, "slo": {}}
        )
    (program / "Pulumi.dc.yaml").write_text(yaml.safe_dump(stack))
    out = tmp_path_factory.mktemp("dc-fleet-out")
    return render_program(program, "dc", out, evaluate_policies=True), out


def test_manifests_validate(rendered):
    result, out = rendered
    files = sorted(out.glob("*/1-manifest/*.yaml"))
    assert len(files) == len(result.manifests)
    for f in files:
        validate_manifest(yaml.safe_load(f.read_text()))
    kinds = {m["kind"] for m in result.manifests}
    assert {
        "ServiceLevelObjective",
        "ClusterQueue",
        "LocalQueue",
        "ResourceFlavor",
        "ResourceQuota",
        "PrometheusRule",
    } <= kinds


def test_cert_manager_is_the_provider_side_component_listed_with_its_site(rendered):
    result, out = rendered
    plan = json.loads((out / "plan.json").read_text())
    side = {c["chart"]["chart"]: c for c in plan["providerSideComponents"]}
    assert {
        "cert-manager",
        "kube-prometheus-stack",
        "pyrra",
        "oci://registry.k8s.io/kueue/charts/kueue",
        "device-metrics-exporter-charts",
        "oci://ghcr.io/intel/xpumanager/charts/xpumd",
        "gpu-operator",
        "keda",
    } <= set(side)
    xpumd = side["oci://ghcr.io/intel/xpumanager/charts/xpumd"]
    assert xpumd["site"] == "dc" and xpumd["chart"]["version"] == "2.0.0"
    assert xpumd["chart"]["namespace"] == "intel-xpumd"
    cm = side["cert-manager"]
    assert cm["type"] == "kubernetes-cert-manager:index:CertManager" and cm["site"] == "dc"
    assert cm["chart"]["version"] == "v1.18.2" and cm["chart"]["namespace"] == "cert-manager"
    assert all(c["site"] == "dc" for c in plan["providerSideComponents"])


def test_objects_wait_for_the_addon_providing_their_crd(rendered):
    from llmkube_iac.plan.objects import ADDON_TYPE

    result, _ = rendered
    by_type: dict[str, list] = {}
    for r in result.resources:
        by_type.setdefault(r.type, []).append(r)
    addons = {r.props["release"]: r for r in by_type[ADDON_TYPE]}
    held = {n: {a.urn} | {r.urn for r in result.resources if r.parent == a.urn} for n, a in addons.items()}

    def waits_for(r, addon: str) -> bool:  # on the add-on or on the chart it holds
        return bool(held[addon] & set(r.dependencies))

    cert = addons["cert-manager"]
    assert any(r.type == "kubernetes-cert-manager:index:CertManager" and r.parent == cert.urn for r in result.charts)
    for r in by_type["kubernetes:pyrra.dev/v1alpha1:ServiceLevelObjective"]:
        assert waits_for(r, "pyrra")
    for r in by_type["kubernetes:kueue.x-k8s.io/v1beta1:ClusterQueue"]:
        assert waits_for(r, "kueue")
    for r in by_type["kubernetes:monitoring.coreos.com/v1:PrometheusRule"]:
        assert waits_for(r, "kube-prometheus-stack")
    assert waits_for(addons["pyrra"], "kube-prometheus-stack")  # Pyrra writes PrometheusRules
    for exporter in ("amd-device-metrics-exporter", "intel-xpumd"):  # they create ServiceMonitors
        assert waits_for(addons[exporter], "kube-prometheus-stack"), exporter
    ns = {r.props["metadata"]["name"]: r.urn for r in by_type["kubernetes:core/v1:Namespace"]}
    assert ns["cert-manager"] in cert.dependencies
    assert ns["monitoring"] in addons["kube-prometheus-stack"].dependencies
    assert ns["intel-xpumd"] in addons["intel-xpumd"].dependencies
    routers = [r for r in result.resources if r.type == "llmkube:index:Router"]
    assert routers and all(waits_for(r, "cert-manager") for r in routers)  # its Certificate needs cert-manager


def test_names_are_stable_and_the_plan_passes_the_rules(rendered):
    result, _ = rendered
    names = {r.name for r in result.resources}
    assert {
        "dc-namespace-llmkube",
        "dc-namespace-cert-manager",
        "dc-clusterqueue-search",
        "dc-localqueue-llmkube-search",
        "dc-servicelevelobjective-llmkube-gateway-availability",
        "dc-servicelevelobjective-llmkube-tgi-chat-availability",
        "dc-servicelevelobjective-llmkube-tgi-chat-latency",
        "dc-servicelevelobjective-llmkube-sglang-chat-availability",
        "dc-servicelevelobjective-llmkube-sglang-chat-latency",
    } <= names
    mandatory = [p for p in result.policy_results if getattr(p, "level", None) == "mandatory"]
    assert not [p for p in mandatory if getattr(p, "rule", "") in ("capacity", "slo-metrics")], mandatory


def test_the_team_service_is_admitted_through_its_team_queue(rendered):
    """services[0] names team search at a site installing Kueue: its pods queue in the team's LocalQueue, the
    namespaces holding team queues are the ones Kueue manages, the chart enables the pod integration, the
    service waits for its queue, and the cluster model finds nothing to refuse."""
    from llmkube_iac.plan.meta import KUEUE_MANAGED_LABEL
    from llmkube_iac.plan.quota import QUEUE_LABEL

    result, out = rendered
    # (the model does not yet count the provider-side CertManager component as installing cert-manager.io)
    findings = [f for f in result.cluster_findings if "cert-manager.io" not in f.message]
    assert not findings, findings
    docs = [yaml.safe_load(f.read_text()) for f in sorted(out.glob("dc/1-manifest/*.yaml"))]
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    queued = {n for n, d in deployments.items() if QUEUE_LABEL in d["spec"]["template"]["metadata"]["labels"]}
    team_services = {n for n, d in deployments.items() if d["metadata"]["labels"].get("llmkube.dev/team") == "search"}
    assert queued == team_services and len(queued) == 1
    (name,) = queued
    assert deployments[name]["spec"]["template"]["metadata"]["labels"][QUEUE_LABEL] == "search"
    managed = {
        d["metadata"]["name"]
        for d in docs
        if d["kind"] == "Namespace" and KUEUE_MANAGED_LABEL in d["metadata"]["labels"]
    }
    assert managed == {"llmkube", "search", "research"}
    addon = next(r for r in result.resources if r.props.get("release") == "kueue")
    chart = next(r for r in result.charts if r.parent == addon.urn)  # the helm.v4.Chart as the engine gets it
    config = yaml.safe_load(chart.props["values"]["managerConfig"]["controllerManagerConfigYaml"])
    assert {"pod", "deployment"} <= set(config["integrations"]["frameworks"])
    assert config["managedJobsNamespaceSelector"] == {"matchLabels": {KUEUE_MANAGED_LABEL: "true"}}
    queue = next(r for r in result.resources if r.name == "dc-localqueue-llmkube-search")
    component = next(
        r for r in result.resources if r.type == "llmkube:index:InferenceService" and r.name == f"dc-{name}"
    )
    assert queue.urn in component.dependencies


def test_the_dashboard_reads_every_pool_vendors_device_series(rendered):
    result, _ = rendered
    cm = next(
        m
        for m in result.manifests
        if m["kind"] == "ConfigMap" and m["metadata"].get("labels", {}).get("grafana_dashboard") == "1"
    )
    text = next(iter(cm["data"].values()))
    for series in (
        "DCGM_FI_DEV_FB_USED",
        "gpu_used_vram",
        "habanalabs_memory_used_bytes) / 1048576",
        "habanalabs_utilization",
        "hw_memory_usage_bytes) / 1048576",
        "hw_gpu_utilization_ratio) * 100",
        "tgi_request_generated_tokens_sum",
        "tgi_queue_size",
        "sglang:generation_tokens_total",
        "sglang:time_to_first_token_seconds_bucket",
        "sglang:token_usage",
    ):
        assert series in text, series
