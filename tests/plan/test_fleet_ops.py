"""Fleet operations planned per site: add-ons, SLOs, team quotas, alerts and dashboards."""

from __future__ import annotations

import copy
import json

import pytest

from llmkube_iac.addons import ADDONS, site_addons
from llmkube_iac.plan.errors import PlanError
from llmkube_iac.plan.stack import plan_stack
from llmkube_iac.spec import SpecError, load_stack_config
from tests.support.k8s_schema import validate_manifest

DC = {
    "site": {
        "name": "dc",
        "jurisdiction": "FR",
        "accelerators": [
            {
                "name": "h100",
                "vendor": "nvidia",
                "devicesPerNode": 8,
                "nodeCount": 2,
                "nodeLabels": {"llmkube.dev/pool": "h100"},
            },
            {
                "name": "mi300x",
                "vendor": "amd",
                "devicesPerNode": 8,
                "nodeCount": 1,
                "taints": [{"key": "amd.com/gpu", "effect": "NoSchedule"}],
            },
        ],
    },
    "models": [{"name": "m", "source": "hf://Qwen/Qwen3-8B", "format": "safetensors", "totalParametersB": 8}],
    "services": [
        {"name": "chat", "model": "m", "runtime": "vllm", "accelerator": {"vendor": "nvidia", "count": 1}},
        {
            "name": "edge",
            "model": "m",
            "runtime": "llamacpp",
            "accelerator": {"vendor": "cpu"},
            "image": "ghcr.io/ggml-org/llama.cpp:server-b6710",
        },
    ],
    "routers": [
        {
            "name": "gw",
            "backends": [{"name": "chat", "service": "chat"}],
            "modelGroups": [{"name": "chat", "backends": ["chat"]}],
            "masterKeySecret": {"name": "gw-keys", "key": "master"},
        }
    ],
}
ALL = {"certManager": True, "monitoring": True, "pyrra": True, "kueue": True, "metricsExporters": True}


def config(mutate=lambda c: None):
    c = copy.deepcopy(DC)
    mutate(c)
    return load_stack_config(c)


def with_addons(c, **extra):
    c["site"]["addons"] = dict(ALL)
    c["site"].update(extra)


def kinds(manifests, kind):
    return [m for m in manifests if m["kind"] == kind]


def test_defaults_add_nothing():
    plan = plan_stack(config())
    assert plan.fleet == []
    assert not [m for m in plan.site if m["kind"] == "HelmChart"]


def test_addons_in_table_order_with_their_namespaces_and_groups():
    plan = plan_stack(config(lambda c: with_addons(c, operators={"gpuOperators": True})))
    charts = [m for m in plan.site if m["kind"] == "HelmChart"]
    names = [m["metadata"]["name"] for m in charts]
    assert names == [
        "cert-manager",
        "kube-prometheus-stack",
        "gpu-operator",
        "amd-gpu-operator",
        "amd-device-metrics-exporter",
        "pyrra",
        "kueue",
    ]
    # every chart's release namespace is created, once
    namespaces = [m["metadata"]["name"] for m in kinds(plan.site, "Namespace")]
    assert sorted(namespaces) == sorted(set(namespaces))
    assert {m["metadata"]["namespace"] for m in charts} <= set(namespaces)
    by = {m["metadata"]["name"]: m["spec"] for m in charts}
    # a chart is listed after every add-on providing a group it needs
    for i, m in enumerate(charts):
        for group in m["spec"]["requires"]:
            assert any(group in c["spec"]["provides"] for c in charts[:i]), (m["metadata"]["name"], group)
    assert by["cert-manager"]["registration"] == "cert-manager"
    assert by["kueue"]["chart"] == "oci://registry.k8s.io/kueue/charts/kueue" and by["kueue"]["repository"] is None
    assert by["gpu-operator"]["values"]["dcgmExporter"]["serviceMonitor"]["enabled"] is True
    assert by["pyrra"]["values"]["prometheusUrl"] == "http://prometheus-operated.monitoring.svc:9090"
    deploy = next(m for m in plan.services["chat"].manifests if m["kind"] == "Deployment")
    assert "llmkube.dev/team" not in deploy["metadata"]["labels"]  # no team named


def test_addon_images_point_at_the_mirrors():
    plan = plan_stack(
        config(
            lambda c: with_addons(
                c,
                airGapped=True,
                registryMirrors=[{"source": "*", "mirror": "registry.dc.internal/cache"}],
                operators={"chartRegistry": "registry.dc.internal/charts"},
            )
        )
    )
    by = {m["metadata"]["name"]: m["spec"] for m in plan.site if m["kind"] == "HelmChart"}
    assert by["pyrra"]["values"]["image"]["repository"] == "registry.dc.internal/cache/ghcr.io/pyrra-dev/pyrra"
    prom = by["kube-prometheus-stack"]["values"]["prometheus"]["prometheusSpec"]
    assert prom["image"] == {"registry": "registry.dc.internal/cache/quay.io"}
    assert prom["ruleSelectorNilUsesHelmValues"] is False  # the chart's own value survives the merge
    webhook = by["cert-manager"]["values"]["webhook"]["image"]
    assert webhook["repository"] == "registry.dc.internal/cache/quay.io/jetstack/cert-manager-webhook"
    assert by["kueue"]["chart"] == "oci://registry.dc.internal/charts/kueue"
    assert (
        by["amd-device-metrics-exporter"]["values"]["image"]["repository"]
        == "registry.dc.internal/cache/docker.io/rocm/device-metrics-exporter"
    )
    # every image an add-on entry declares is rewritten: none still names its public registry
    for a in site_addons(load_stack_config({**DC, "site": {**DC["site"], "addons": ALL}}).site):
        text = json.dumps(by[a.name]["values"])
        for iv in a.images:
            assert "registry.dc.internal" in text, (a.name, iv.key)


def test_cluster_provided_groups_skip_the_addon():
    class Site:  # the spec's clusterProvides as the cluster model will set it
        def __init__(self, site, provides):
            self._site, self.cluster_provides = site, provides

        def __getattr__(self, name):
            return getattr(self._site, name)

    site = config(lambda c: with_addons(c)).site
    names = [a.name for a in site_addons(Site(site, ("monitoring.coreos.com",)))]
    assert "kube-prometheus-stack" not in names and "pyrra" in names
    assert "kube-prometheus-stack" in [a.name for a in site_addons(site)]


def test_vllm_and_router_slos_read_their_own_series():
    plan = plan_stack(config(lambda c: with_addons(c)))
    slos = {m["metadata"]["name"]: m["spec"] for m in kinds(plan.fleet, "ServiceLevelObjective")}
    assert set(slos) == {"chat-availability", "chat-latency", "gw-availability", "gw-latency"}  # llama.cpp: none
    ratio = slos["chat-availability"]["indicator"]["ratio"]
    assert (
        ratio["errors"]["metric"]
        == 'vllm:request_success_total{namespace="llmkube",service="chat",finished_reason="abort"}'
    )
    assert ratio["total"]["metric"] == 'vllm:request_success_total{namespace="llmkube",service="chat"}'
    latency = slos["chat-latency"]["indicator"]["latency"]
    assert (
        latency["success"]["metric"]
        == 'vllm:e2e_request_latency_seconds_bucket{namespace="llmkube",service="chat",le="10.0"}'
    )
    assert slos["chat-availability"]["target"] == "99.5" and slos["chat-availability"]["window"] == "28d"
    assert 'outcome=~"error|no_route"' in slos["gw-availability"]["indicator"]["ratio"]["errors"]["metric"]


TGI_AND_SGLANG = [
    {"name": "tgi", "model": "m", "runtime": "tgi", "accelerator": {"vendor": "nvidia", "count": 1}},
    {"name": "sgl", "model": "m", "runtime": "sglang", "accelerator": {"vendor": "nvidia", "count": 1}},
]


def with_tgi_and_sglang(c, tgi=None, sgl=None):
    """The two services after the DC's two (services[2] and [3]), each with its `slo` when given."""
    with_addons(c)
    c["services"] += copy.deepcopy(TGI_AND_SGLANG)
    for s, slo in zip(c["services"][-2:], (tgi, sgl), strict=True):
        if slo is not None:
            s["slo"] = slo


def test_tgi_and_sglang_slos_read_their_own_series():
    plan = plan_stack(config(with_tgi_and_sglang))
    slos = {m["metadata"]["name"]: m["spec"]["indicator"] for m in kinds(plan.fleet, "ServiceLevelObjective")}
    sel = 'namespace="llmkube",service='
    # TGI: failures are a counter of their own, client errors (422) left out; successes are the total
    assert slos["tgi-availability"]["ratio"] == {
        "errors": {"metric": f'tgi_request_failure{{{sel}"tgi",err!~"validation|template"}}'},
        "total": {"metric": f'tgi_request_success{{{sel}"tgi"}}'},
    }
    # its duration histogram has no 10 s bound: the default threshold is the next bound up, written as
    # Prometheus stores the label
    assert slos["tgi-latency"]["latency"] == {
        "success": {"metric": f'tgi_request_duration_bucket{{{sel}"tgi",le="12.783403948858936"}}'},
        "total": {"metric": f'tgi_request_duration_count{{{sel}"tgi"}}'},
    }
    assert slos["sgl-availability"]["ratio"] == {
        "errors": {"metric": f'sglang:num_aborted_requests_total{{{sel}"sgl"}}'},
        "total": {"metric": f'sglang:num_requests_total{{{sel}"sgl"}}'},
    }
    assert slos["sgl-latency"]["latency"] == {
        "success": {"metric": f'sglang:e2e_request_latency_seconds_bucket{{{sel}"sgl",le="10.0"}}'},
        "total": {"metric": f'sglang:e2e_request_latency_seconds_count{{{sel}"sgl"}}'},
    }
    for indicator in slos.values():  # Pyrra refuses a ratio whose errors and total are the same selector
        if "ratio" in indicator:
            assert indicator["ratio"]["errors"] != indicator["ratio"]["total"]
    # SGLang serves /metrics only when asked to
    deploy = next(m for m in plan.services["sgl"].manifests if m["kind"] == "Deployment")
    assert "--enable-metrics" in deploy["spec"]["template"]["spec"]["containers"][0]["args"]


def test_an_explicit_threshold_must_be_a_bound_of_the_runtimes_histogram():
    refused = r"services\[2\]\.slo\.latency\.thresholdSeconds: 10 s .* tgi_request_duration.* 8\.52227, 12\.7834,"
    with pytest.raises(PlanError, match=refused):
        plan_stack(config(lambda c: with_tgi_and_sglang(c, tgi={"latency": {"thresholdSeconds": 10}})))
    # a bound as the error lists it (6 significant digits) is that bound
    plan = plan_stack(config(lambda c: with_tgi_and_sglang(c, tgi={"latency": {"thresholdSeconds": 28.7627}})))
    tgi = next(m for m in kinds(plan.fleet, "ServiceLevelObjective") if m["metadata"]["name"] == "tgi-latency")
    assert 'le="28.76265888493261"' in tgi["spec"]["indicator"]["latency"]["success"]["metric"]
    # only an unset threshold moves to the next bound: the same 10 s on SGLang is a bound and stays
    plan = plan_stack(config(lambda c: with_tgi_and_sglang(c, *2 * [{"latency": {"target": 99}}])))
    specs = {m["metadata"]["name"]: m["spec"] for m in kinds(plan.fleet, "ServiceLevelObjective")}
    assert specs["tgi-latency"]["target"] == specs["sgl-latency"]["target"] == "99"
    assert specs["tgi-latency"]["indicator"]["latency"]["success"]["metric"].endswith('le="12.783403948858936"}')
    assert specs["sgl-latency"]["indicator"]["latency"]["success"]["metric"].endswith('le="10.0"}')


def test_slo_errors_name_the_field():
    with pytest.raises(PlanError, match=r"services\[0\]\.slo\.latency\.thresholdSeconds.*one of 0\.3, 0\.5"):
        plan_stack(
            config(lambda c: (with_addons(c), c["services"][0].update(slo={"latency": {"thresholdSeconds": 7}})))
        )
    with pytest.raises(PlanError, match=r"services\[0\]\.slo.*site\.addons\.pyrra"):
        plan_stack(config(lambda c: c["services"][0].update(slo={"availability": 99.9})))
    with pytest.raises(SpecError, match="window"):
        config(lambda c: c["services"][0].update(slo={"window": "a month"}))
    off = plan_stack(config(lambda c: (with_addons(c), c["services"][0].update(slo={"enabled": False}))))
    assert not [m for m in off.fleet if m["metadata"]["name"].startswith("chat-")]


TEAMS = [
    {"name": "search", "devices": [{"vendor": "nvidia", "pool": "h100", "count": 8}], "priority": "high"},
    {
        "name": "research",
        "namespace": "lab",
        "borrowing": False,
        "devices": [{"vendor": "nvidia", "count": 4}, {"vendor": "amd", "count": 8}],
    },
]


def test_teams_become_quotas_and_kueue_queues():
    plan = plan_stack(config(lambda c: (with_addons(c), c.update(teams=TEAMS), c["services"][0].update(team="search"))))
    deploy = next(m for m in plan.services["chat"].manifests if m["kind"] == "Deployment")
    assert deploy["metadata"]["labels"]["llmkube.dev/team"] == "search"
    quotas = {m["metadata"]["namespace"]: m["spec"]["hard"] for m in kinds(plan.fleet, "ResourceQuota")}
    assert quotas == {
        "search": {"requests.nvidia.com/gpu": "8"},
        "lab": {"requests.amd.com/gpu": "8", "requests.nvidia.com/gpu": "4"},
    }
    flavors = {m["metadata"]["name"]: m["spec"] for m in kinds(plan.fleet, "ResourceFlavor")}
    assert flavors["dc-h100"]["nodeLabels"] == {"llmkube.dev/pool": "h100", "nvidia.com/gpu.present": "true"}
    assert flavors["dc-mi300x"]["nodeTaints"] == [{"key": "amd.com/gpu", "effect": "NoSchedule"}]
    cqs = {m["metadata"]["name"]: m["spec"] for m in kinds(plan.fleet, "ClusterQueue")}
    assert cqs["search"]["cohort"] == "llmkube"
    assert cqs["search"]["resourceGroups"] == [
        {
            "coveredResources": ["nvidia.com/gpu"],
            "flavors": [{"name": "dc-h100", "resources": [{"name": "nvidia.com/gpu", "nominalQuota": 8}]}],
        }
    ]
    research = {g["coveredResources"][0]: g["flavors"] for g in cqs["research"]["resourceGroups"]}
    assert research["amd.com/gpu"] == [
        {"name": "dc-mi300x", "resources": [{"name": "amd.com/gpu", "nominalQuota": 8, "borrowingLimit": 0}]}
    ]
    local = {(m["metadata"]["namespace"], m["metadata"]["name"]) for m in kinds(plan.fleet, "LocalQueue")}
    assert local == {("search", "search"), ("llmkube", "search"), ("lab", "research"), ("llmkube", "research")}
    # a team's priority is the site's PriorityClass of that name (Kueue orders by the pods' priority)
    assert {"llmkube-high", "llmkube-normal"} <= {m["metadata"]["name"] for m in kinds(plan.site, "PriorityClass")}


def test_team_errors_name_the_field():
    with pytest.raises(SpecError, match=r"services\[0\]\.team.*unknown team 'ghost'"):
        config(lambda c: (c.update(teams=TEAMS), c["services"][0].update(team="ghost")))
    with pytest.raises(SpecError, match=r"teams\[0\]\.devices\[0\]\.pool.*pool mi300x is amd, not nvidia"):
        config(
            lambda c: c.update(teams=[{"name": "a", "devices": [{"vendor": "nvidia", "pool": "mi300x", "count": 1}]}])
        )
    with pytest.raises(SpecError, match=r"teams\[0\]\.devices\[0\]\.vendor.*'cpu' has no device resource"):
        config(lambda c: c.update(teams=[{"name": "a", "devices": [{"vendor": "cpu", "count": 1}]}]))
    with pytest.raises(SpecError, match="duplicate team name"):
        config(lambda c: c.update(teams=[{"name": "a"}, {"name": "a"}]))


def test_without_kueue_teams_get_namespaces_and_quotas_only():
    plan = plan_stack(config(lambda c: c.update(teams=TEAMS)))
    assert {m["kind"] for m in plan.fleet} == {"Namespace", "ResourceQuota"}


def test_alert_rules_and_dashboard_per_site():
    plan = plan_stack(config(lambda c: with_addons(c)))
    rule = kinds(plan.fleet, "PrometheusRule")[0]
    rules = rule["spec"]["groups"][0]["rules"]
    alerts = {(r["alert"], r["labels"].get("service") or r["labels"].get("router")) for r in rules}
    assert {
        ("LLMKubeRuntimeDown", "chat"),
        ("LLMKubeQueueSaturated", "chat"),
        ("LLMKubeKVCachePressure", "chat"),
        ("LLMKubeRuntimeDown", "edge"),
        ("LLMKubeQueueSaturated", "edge"),
        ("LLMKubeRouterFailClosed", "gw"),
    } == alerts  # llama.cpp exports no KV-cache gauge
    exprs = {r["alert"] + (r["labels"].get("service") or ""): r["expr"] for r in rule["spec"]["groups"][0]["rules"]}
    assert (
        exprs["LLMKubeQueueSaturatededge"] == 'avg(llamacpp:requests_deferred{namespace="llmkube",service="edge"}) > 1'
    )
    board_cm = kinds(plan.fleet, "ConfigMap")[0]
    assert board_cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    board = json.loads(board_cm["data"]["llmkube-dc.json"])
    text = json.dumps(board)
    for series in (
        "vllm:generation_tokens_total",
        "llamacpp:tokens_predicted_total",
        "vllm:num_requests_waiting",
        "vllm:time_to_first_token_seconds_bucket",
        "vllm:kv_cache_usage_perc",
        "DCGM_FI_DEV_FB_USED",
        "DCGM_FI_DEV_GPU_UTIL",
        "gpu_used_vram",
        "gpu_gfx_activity",
        "llmkube_router_tokens_total",
    ):
        assert series in text, series
    assert [p["title"] for p in board["panels"]] == [
        "Generated tokens/s",
        "Queue depth",
        "Time to first token (p95)",
        "KV-cache usage",
        "Device memory used (MiB)",
        "Device utilisation",
    ]


def test_tgi_and_sglang_alerts_and_panels_read_their_series():
    plan = plan_stack(config(with_tgi_and_sglang))
    rules = kinds(plan.fleet, "PrometheusRule")[0]["spec"]["groups"][0]["rules"]
    exprs = {(r["alert"], r["labels"].get("service")): r["expr"] for r in rules}
    tgi, sgl = 'namespace="llmkube",service="tgi"', 'namespace="llmkube",service="sgl"'
    assert exprs[("LLMKubeQueueSaturated", "tgi")] == f"avg(tgi_queue_size{{{tgi}}}) > 1"
    assert exprs[("LLMKubeQueueSaturated", "sgl")] == f"avg(sglang:num_queue_reqs{{{sgl}}}) > 1"
    assert exprs[("LLMKubeKVCachePressure", "sgl")] == f"max(sglang:token_usage{{{sgl}}}) > 0.95"
    assert ("LLMKubeKVCachePressure", "tgi") not in exprs  # TGI exports no KV-cache gauge
    assert ("LLMKubeRuntimeDown", "tgi") in exprs and ("LLMKubeRuntimeDown", "sgl") in exprs
    board = json.loads(kinds(plan.fleet, "ConfigMap")[0]["data"]["llmkube-dc.json"])
    panels = {p["title"]: [t["expr"] for t in p["targets"]] for p in board["panels"]}
    ns = '{namespace="llmkube"}'
    assert f"sum by (service) (rate(tgi_request_generated_tokens_sum{ns}[5m]))" in panels["Generated tokens/s"]
    assert f"sum by (service) (rate(sglang:generation_tokens_total{ns}[5m]))" in panels["Generated tokens/s"]
    assert f"sum by (service) (tgi_queue_size{ns})" in panels["Queue depth"]
    assert f"sum by (service) (sglang:num_queue_reqs{ns})" in panels["Queue depth"]
    assert any("sglang:time_to_first_token_seconds_bucket" in e for e in panels["Time to first token (p95)"])
    assert f"max by (service) (sglang:token_usage{ns})" in panels["KV-cache usage"]


def test_every_fleet_object_validates_and_is_named_uniquely():
    plan = plan_stack(config(lambda c: (with_addons(c, operators={"gpuOperators": True}), c.update(teams=TEAMS))))
    keys = [(m["kind"], m["metadata"].get("namespace"), m["metadata"]["name"]) for m in plan.fleet]
    assert len(keys) == len(set(keys))
    for m in plan.fleet:
        validate_manifest(m)
    # names do not depend on what else is declared: a third team leaves the others' names alone
    more = plan_stack(
        config(lambda c: (with_addons(c, operators={"gpuOperators": True}), c.update(teams=TEAMS + [{"name": "ops"}])))
    )
    assert set(keys) <= {(m["kind"], m["metadata"].get("namespace"), m["metadata"]["name"]) for m in more.fleet}


def test_router_metric_names_are_the_exporters():
    from llmkube_iac.plan import router_config as rc
    from llmkube_iac.router_hooks import llmkube_metrics

    assert {rc.ROUTER_REQUESTS, rc.ROUTER_LATENCY, rc.ROUTER_TOKENS} <= set(llmkube_metrics.HELP)
    assert tuple(rc.ROUTER_LATENCY_BUCKETS) == tuple(llmkube_metrics.BUCKETS)


def test_every_addon_declares_what_it_provides_or_is_a_vendor_entry():
    for a in ADDONS.values():
        assert a.version and a.namespace and a.registration in ("helm", "cert-manager"), a.name


def test_airgap_charts_judges_the_cert_manager_addon():
    from llmkube_iac.plan.objects import ADDON_TYPE
    from llmkube_iac.policy import evaluate
    from tests.policy.fixtures import edge_config, resources_for

    c = edge_config()
    c["site"]["addons"] = {"certManager": True}
    rs = resources_for(c)
    cm = next(r for r in rs if r.type == ADDON_TYPE and r.props["release"] == "cert-manager")
    assert cm.props["chart"] == "oci://registry.edge.internal/charts/cert-manager"
    assert not [p for p in evaluate(rs) if p.rule == "airgap-charts"]
    rs = resources_for(c)  # a fresh plan: the evaluator may keep what it read of the first
    cm = next(r for r in rs if r.type == ADDON_TYPE and r.props["release"] == "cert-manager")
    cm.props.update(chart="cert-manager", repository="https://charts.jetstack.io")
    assert [p for p in evaluate(rs) if p.rule == "airgap-charts" and "charts.jetstack.io" in p.message]


def test_an_addon_whose_crds_nothing_provides_is_refused():
    with pytest.raises(
        PlanError,
        match=r"site\.addons.*pyrra needs API group monitoring\.coreos\.com.*"
        r"kube-prometheus-stack",
    ):
        plan_stack(config(lambda c: c["site"].update(addons={"pyrra": True})))
    # exporters without Prometheus are not installed (nothing would scrape them)
    plan = plan_stack(config(lambda c: c["site"].update(addons={"metricsExporters": True})))
    assert not [m for m in plan.site if m["kind"] == "HelmChart"]


def test_alerts_follow_the_monitoring_switch():
    provided = config(lambda c: c["site"].update(clusterProvides=["monitoring.coreos.com"]))
    assert not kinds(plan_stack(provided).fleet, "PrometheusRule")  # a cluster's own Prometheus: opt in
    opted = config(lambda c: c["site"].update(clusterProvides=["monitoring.coreos.com"], monitoring={"alerts": True}))
    assert kinds(plan_stack(opted).fleet, "PrometheusRule") and kinds(plan_stack(opted).fleet, "ConfigMap")
    with pytest.raises(PlanError, match=r"site\.monitoring\.alerts.*Prometheus operator"):
        plan_stack(config(lambda c: c["site"].update(monitoring={"alerts": True})))
