"""Device metrics exporters per vendor, read from the tables: `site.addons.metricsExporters` installs the
exporter chart a pool's vendor names (where Prometheus runs), at air-gapped sites from the mirrors, after
the Prometheus operator; the dashboard reads each vendor's `device_metrics` in its own unit; and a site
without the switch (or without Prometheus) gets nothing."""

from __future__ import annotations

import copy
import json
from dataclasses import replace

import pytest

from llmkube_iac.addons import ADDONS, addon
from llmkube_iac.hardware import VENDORS, vendor
from llmkube_iac.plan.ordering import prerequisites
from llmkube_iac.plan.stack import plan_stack
from llmkube_iac.spec import load_stack_config
from tests.support.k8s_schema import validate_manifest

# vendors whose exporter is a chart of the add-on table, and those whose exporter is not (NVIDIA's ships in
# its gpu-operator; Gaudi's is deployed by the Habana operator's ClusterPolicy and has no chart of its own)
CHARTED = sorted(v for v, p in VENDORS.items() if p.metrics_exporter in ADDONS)
UNCHARTED = ["intel-gaudi", "nvidia"]
DEVICE_VENDORS = CHARTED + UNCHARTED
MIRROR = "registry.dc.internal/cache"


def stack(pool_vendor: str, taints=(), **site) -> dict:
    return {
        "site": {
            "name": "dc",
            "jurisdiction": "FR",
            "accelerators": [
                {
                    "name": "pool",
                    "vendor": pool_vendor,
                    "devicesPerNode": 4,
                    "nodeCount": 1,
                    "taints": list(taints),
                }
            ],
            **site,
        },
        "models": [{"name": "m", "source": "hf://Qwen/Qwen3-8B", "format": "safetensors", "totalParametersB": 8}],
        "services": [
            {
                "name": "edge",
                "model": "m",
                "runtime": "llamacpp",
                "accelerator": {"vendor": "cpu"},
                "image": "ghcr.io/ggml-org/llama.cpp:server-b6710",
            }
        ],
    }


def charts(raw: dict) -> dict[str, dict]:
    plan = plan_stack(load_stack_config(copy.deepcopy(raw)))
    return {m["metadata"]["name"]: m for m in plan.site if m["kind"] == "HelmChart"}


def on(**extra) -> dict:
    return {"addons": {"monitoring": True, "metricsExporters": True}, **extra}


def test_the_vendors_with_an_exporter_chart():
    assert CHARTED == ["amd", "intel-xpu"]
    for v in UNCHARTED:
        assert vendor(v).metrics_exporter not in ADDONS, v


@pytest.mark.parametrize("pool_vendor", CHARTED)
def test_a_pool_with_exporters_and_monitoring_installs_its_vendors_exporter(pool_vendor):
    entry = addon(vendor(pool_vendor).metrics_exporter)
    plan = plan_stack(load_stack_config(stack(pool_vendor, **on())))
    site = plan.site
    by = {m["metadata"]["name"]: m for m in site if m["kind"] == "HelmChart"}
    assert list(by) == ["kube-prometheus-stack", entry.name]
    chart = by[entry.name]
    spec = chart["spec"]
    assert (chart["metadata"]["namespace"], spec["version"]) == (entry.namespace, entry.version)
    assert spec["chart"].endswith(entry.chart)
    assert spec["requires"] == ["monitoring.coreos.com"]
    # its namespace is created, Pod Security privileged (a host-level DaemonSet)
    ns = next(m for m in site if m["kind"] == "Namespace" and m["metadata"]["name"] == entry.namespace)
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    validate_manifest(ns)
    # applied after its namespace and after the Prometheus operator that provides its ServiceMonitor's CRD
    deps = prerequisites(site)
    i = site.index(chart)
    assert site.index(ns) in deps[i] and site.index(by["kube-prometheus-stack"]) in deps[i]


@pytest.mark.parametrize("pool_vendor", CHARTED)
def test_at_an_air_gapped_site_the_exporter_comes_from_the_mirrors(pool_vendor):
    entry = addon(vendor(pool_vendor).metrics_exporter)
    chart = charts(
        stack(
            pool_vendor,
            **on(
                airGapped=True,
                registryMirrors=[{"source": "*", "mirror": MIRROR}],
                operators={"chartRegistry": "registry.dc.internal/charts"},
            ),
        )
    )[entry.name]
    spec = chart["spec"]
    assert spec["chart"] == f"oci://registry.dc.internal/charts/{entry.chart}" and spec["repository"] is None
    assert [i["key"] for i in spec["images"]] == [i.key for i in entry.images]
    for image in spec["images"]:
        assert image["value"].startswith(MIRROR + "/"), image
        node = spec["values"]
        for key in image["key"].split("."):
            node = node[key]
        assert node == image["value"]  # the chart's own values key now names the mirror


@pytest.mark.parametrize("pool_vendor", DEVICE_VENDORS)
@pytest.mark.parametrize(
    "site",
    [
        {"addons": {"monitoring": True}},  # no switch
        {"addons": {"metricsExporters": True}},  # nothing scrapes it
        {},
    ],
    ids=["no-switch", "no-prometheus", "defaults"],
)
def test_without_the_switch_or_prometheus_no_exporter_is_installed(pool_vendor, site):
    names = set(charts(stack(pool_vendor, **site)))
    exporters = {p.metrics_exporter for p in VENDORS.values()}
    assert not names & exporters
    assert names <= {"kube-prometheus-stack"}


@pytest.mark.parametrize("pool_vendor", UNCHARTED)
def test_a_vendor_without_an_exporter_chart_installs_none(pool_vendor):
    assert set(charts(stack(pool_vendor, **on()))) == {"kube-prometheus-stack"}


def test_the_xpu_exporter_runs_on_the_vendors_nodes_and_tolerates_its_pools():
    values = charts(stack("intel-xpu", taints=[{"key": "team", "value": "lab", "effect": "NoSchedule"}], **on()))[
        "intel-xpumd"
    ]["spec"]["values"]
    xpu = vendor("intel-xpu")
    assert values["nodeSelector"] == xpu.node_selector
    assert values["tolerations"] == [
        *xpu.tolerations,
        {"key": "team", "operator": "Equal", "effect": "NoSchedule", "value": "lab"},
    ]
    # it asks the GPU plugin for the monitoring resource of the device resource the vendor's pods use
    assert xpu.resource_key == f"gpu.intel.com/{values['gpuAccess']}"
    # the chart serves Prometheus metrics only with its prometheus exporter in the metrics pipeline
    assert "prometheus" in values["config"]["service"]["pipelines"]["metrics"]["exporters"]
    assert values["prometheus"]["monitor"] is True


def test_the_xpu_exporter_entry_is_the_published_chart():
    entry = addon("intel-xpumd")
    assert (entry.chart, entry.version, entry.repository) == ("xpumd", "2.0.0", "oci://ghcr.io/intel/xpumanager/charts")
    assert [(i.key, i.default, i.prefix) for i in entry.images] == [
        ("image.repository", "ghcr.io/intel/xpumanager/xpumd", True)
    ]
    assert entry.schema_hosts == ("raw.githubusercontent.com",)
    spec = charts(stack("intel-xpu", **on()))["intel-xpumd"]["spec"]
    assert spec["chart"] == "oci://ghcr.io/intel/xpumanager/charts/xpumd" and spec["repository"] is None
    assert spec["schemaHosts"] == ["raw.githubusercontent.com"]
    assert "schemaHosts" not in charts(stack("amd", **on()))["amd-device-metrics-exporter"]["spec"]


# -- dashboards -------------------------------------------------------------------------------------------------
def board(*vendors: str) -> dict:
    raw = stack(vendors[0], **on())
    raw["site"]["accelerators"] = [
        {"name": f"p{i}", "vendor": v, "devicesPerNode": 1, "nodeCount": 1} for i, v in enumerate(vendors)
    ]
    plan = plan_stack(load_stack_config(raw))
    cm = next(m for m in plan.fleet if m["kind"] == "ConfigMap" and "grafana_dashboard" in m["metadata"]["labels"])
    return json.loads(next(iter(cm["data"].values())))


def panel(b: dict, title: str) -> list[str]:
    return [t["expr"] for p in b["panels"] if p["title"] == title for t in p["targets"]]


@pytest.mark.parametrize(
    "pool_vendor, memory, utilisation",
    [
        ("nvidia", "sum by (instance) (DCGM_FI_DEV_FB_USED)", "avg by (instance) (DCGM_FI_DEV_GPU_UTIL)"),
        ("amd", "sum by (instance) (gpu_used_vram)", "avg by (instance) (gpu_gfx_activity)"),
        (
            "intel-gaudi",
            "sum by (instance) (habanalabs_memory_used_bytes) / 1048576",
            "avg by (instance) (habanalabs_utilization)",
        ),
        (
            "intel-xpu",
            "sum by (instance) (hw_memory_usage_bytes) / 1048576",
            "avg by (instance) (hw_gpu_utilization_ratio) * 100",
        ),
    ],
)
def test_the_dashboard_shows_each_vendors_series_in_mib_and_percent(pool_vendor, memory, utilisation):
    b = board(pool_vendor)
    assert panel(b, "Device memory used (MiB)") == [memory]
    assert panel(b, "Device utilisation") == [utilisation]


def test_a_site_with_every_device_vendor_gets_one_series_each():
    b = board(*DEVICE_VENDORS)
    assert len(panel(b, "Device memory used (MiB)")) == len(panel(b, "Device utilisation")) == len(DEVICE_VENDORS)


def test_every_vendor_with_devices_names_its_series_in_a_known_unit():
    from llmkube_iac.plan.observability import MEMORY_TO_MIB, UTILISATION_TO_PERCENT

    for name, p in VENDORS.items():
        if p.resource_key is None:
            continue
        dm = p.device_metrics
        assert dm.get("memory_used") and dm.get("utilisation"), name
        assert dm.get("memory_unit") in MEMORY_TO_MIB, name
        assert dm.get("utilisation_unit", "percent") in UTILISATION_TO_PERCENT, name


def test_a_unit_the_dashboard_cannot_convert_is_an_error_naming_the_vendor(monkeypatch):
    amd = VENDORS["amd"]
    monkeypatch.setitem(VENDORS, "amd", replace(amd, device_metrics={**amd.device_metrics, "memory_unit": "kib"}))
    with pytest.raises(ValueError, match=r"vendor amd: device_metrics memory_unit 'kib' is not one of mbytes, bytes"):
        board("amd")


# -- air-gapped sites ---------------------------------------------------------------------------------------------
def _airgap_charts(config: dict) -> list[str]:
    from llmkube_iac.policy import evaluate
    from tests.policy.fixtures import resources_for

    return [p.message for p in evaluate(resources_for(config)) if p.rule == "airgap-charts"]


def test_an_exporter_whose_values_schema_loads_outside_definitions_is_refused_air_gapped():
    from tests.policy.fixtures import edge_config

    c = edge_config()
    assert not _airgap_charts(c)
    c["site"]["accelerators"].append({"name": "arc", "vendor": "intel-xpu", "devicesPerNode": 1, "nodeCount": 1})
    c["site"]["registryMirrors"].append({"source": "quay.io", "mirror": "registry.edge.internal/quay"})
    c["site"]["registryMirrors"].append({"source": "docker.io", "mirror": "registry.edge.internal/docker"})
    c["site"]["clusterProvides"] = ["monitoring.coreos.com"]  # the site's own Prometheus scrapes it
    c["site"]["addons"] = {"metricsExporters": True}
    messages = _airgap_charts(c)
    assert len(messages) == 1, messages
    assert "add-on intel-xpumd (site edge, air-gapped)" in messages[0]
    assert "raw.githubusercontent.com" in messages[0]
    # the chart itself comes from the internal registry: the schema is the only reason
    c["site"]["addons"] = {}
    assert not _airgap_charts(c)
