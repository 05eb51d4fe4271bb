"""The cluster model of the offline engine: what a cluster would refuse, found before `pulumi up`."""

from __future__ import annotations

import copy
import json
import shutil

import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml

from llmkube_iac.cli import main
from llmkube_iac.render import cluster as cluster_model
from llmkube_iac.render.engine import render_program, run_callable
from tests.conftest import ROOT, minimal_stack

PROGRAMS = [
    ("stacks", "dev"),
    ("stacks", "dc"),
    ("examples/quickstart", None),
    ("examples/multi-vendor", None),
    ("examples/router", None),
    ("examples/airgapped-edge", None),
    ("examples/metal-edge", None),
]


def model(build, **kw) -> cluster_model.ClusterModel:
    return cluster_model.build(run_callable(build, **kw))


def checks(m: cluster_model.ClusterModel) -> list[tuple[str, str]]:
    return sorted((f.check, f.message) for f in m.findings)


def stack(**site) -> dict:
    cfg = minimal_stack()
    cfg["site"].update({"clusterProvides": ["monitoring.coreos.com"], **site})
    return cfg


@pytest.mark.parametrize("program, stack_name", PROGRAMS)
def test_every_stack_and_example_is_applicable(program, stack_name):
    result = render_program(ROOT / program, stack_name, None, evaluate_policies=False)
    assert result.cluster_findings == [], [f.message for f in result.cluster_findings]
    order = result.cluster.apply_order
    kinds = [next(r for r in result.resources if r.urn == u).type for u in order]
    assert kinds.index("kubernetes:core/v1:Namespace") < min(i for i, k in enumerate(kinds) if "Deployment" in k)


def test_custom_resource_without_its_api_group_is_refused():
    from llmkube_iac import Site

    findings = checks(model(lambda: Site("t", minimal_stack())))
    assert [c for c, _ in findings] == ["api-group"]
    assert "PodMonitor llmkube/chat needs the monitoring.coreos.com API" in findings[0][1]
    assert checks(model(lambda: Site("t", stack()))) == []


def test_add_on_needing_cert_manager_is_refused_until_declared():
    from llmkube_iac import Site

    amd = stack(accelerators=[{"name": "a", "vendor": "amd"}], operators={"gpuOperators": True})
    messages = [m for _, m in checks(model(lambda: Site("t", amd)))]
    assert messages == [
        "add-on amd-gpu-operator needs the cert-manager.io API, which no add-on in cluster test "
        "installs and site.clusterProvides does not declare"
    ]
    amd["site"]["clusterProvides"].append("cert-manager.io")
    assert checks(model(lambda: Site("t", amd))) == []


def test_object_in_a_namespace_nothing_creates_is_refused():
    from llmkube_iac import Site

    def build():
        site = Site("t", stack())
        k8s.core.v1.ConfigMap(
            "stray",
            metadata={"name": "stray", "namespace": "nowhere"},
            opts=pulumi.ResourceOptions(provider=site.provider),
        )

    assert checks(model(build)) == [
        ("namespace", "ConfigMap nowhere/stray goes into namespace nowhere, which nothing in cluster test creates")
    ]


def test_object_that_may_race_its_namespace_is_refused():
    from llmkube_iac import Site

    def build(depend: bool):
        site = Site("t", stack())
        deps = [site.resources["t-namespace-llmkube"]] if depend else []
        k8s.core.v1.ConfigMap(
            "late",
            metadata={"name": "late", "namespace": "llmkube"},
            opts=pulumi.ResourceOptions(provider=site.provider, depends_on=deps),
        )

    assert checks(model(lambda: build(False))) == [
        ("order", "ConfigMap llmkube/late may be applied before Namespace llmkube")
    ]
    assert checks(model(lambda: build(True))) == []


def test_two_sites_sharing_a_cluster_would_share_objects():
    from llmkube_iac import Fleet

    a, b = stack(), stack()
    a["site"].update(name="a", kubernetes={"cluster": "shared"})
    b["site"].update(name="b", kubernetes={"cluster": "shared"}, namespace="other")
    findings = checks(model(lambda: Fleet("f", [a, b])))
    assert {c for c, _ in findings} == {"duplicate"}
    assert any("PriorityClass llmkube-normal is registered twice in cluster shared" in m for _, m in findings)
    b["site"]["namespace"] = "llmkube"
    same_ns = checks(model(lambda: Fleet("f", [a, b])))
    assert any(m.startswith("Namespace llmkube is registered twice") for _, m in same_ns)
    assert any(m.startswith("Deployment llmkube/chat is registered twice") for _, m in same_ns)
    b["site"]["kubernetes"] = {"cluster": "other"}
    assert checks(model(lambda: Fleet("f", [a, b]))) == []


def test_names_the_api_server_rejects():
    from llmkube_iac import Site

    def build():
        site = Site("t", stack())
        k8s.core.v1.Service(
            "long",
            metadata={"name": "s" * 64, "namespace": "llmkube"},
            spec={"ports": [{"port": 80}]},
            opts=pulumi.ResourceOptions(provider=site.provider, depends_on=[site.resources["t-namespace-llmkube"]]),
        )

    assert checks(model(build)) == [
        ("name", f"Service llmkube/{'s' * 64}: the name must be a DNS label of at most 63 characters (it has 64)")
    ]


def test_check_exits_1_and_plan_json_lists_the_findings(tmp_path, capsys):
    shutil.copytree(ROOT / "examples" / "quickstart", tmp_path / "q")
    main_py = tmp_path / "q" / "__main__.py"
    main_py.write_text(main_py.read_text().replace('"clusterProvides": ["monitoring.coreos.com"]', '"region": "x"'))
    assert main(["render", str(tmp_path / "q"), "--out", str(tmp_path / "out")]) == 1
    out = capsys.readouterr()
    assert "cluster  api-group" in out.out and "cluster model: 1 problem(s)" in out.err
    plan = json.loads((tmp_path / "out" / "plan.json").read_text())
    assert [f["check"] for f in plan["clusterModel"]["findings"]] == ["api-group"]
    assert plan["clusterModel"]["applyOrder"]


def test_edge_example_needs_keda_for_its_scaled_object(tmp_path):
    """The air-gapped example autoscales on its queue: without the KEDA add-on the ScaledObject has no CRD."""
    dest = tmp_path / "edge"
    shutil.copytree(ROOT / "examples" / "airgapped-edge", dest)
    doc = yaml.safe_load((dest / "Pulumi.edge.yaml").read_text())
    broken = copy.deepcopy(doc)
    broken["config"]["llmkube:site"]["operators"]["keda"] = False
    (dest / "Pulumi.edge.yaml").write_text(yaml.safe_dump(broken))
    findings = render_program(dest, "edge", None, evaluate_policies=False).cluster_findings
    assert [(f.check, f.message.split(" needs")[0]) for f in findings] == [("api-group", "ScaledObject llmkube/chat")]
