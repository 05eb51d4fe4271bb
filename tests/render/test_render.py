"""The offline engine on every stack and example: layout, plan.json, schema validity."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from llmkube_iac.render.engine import render_program
from llmkube_iac.render.project import SECRET_PLACEHOLDER, load_project
from tests.conftest import ROOT
from tests.support.k8s_schema import validate_manifest

PROGRAMS = [
    ("stacks", "dev"),
    ("stacks", "dc"),
    ("examples/quickstart", None),
    ("examples/multi-vendor", None),
    ("examples/router", None),
    ("examples/airgapped-edge", None),
    ("examples/metal-edge", None),
    ("examples/fleet", "dc"),
    ("examples/fleet", "edge-l4"),
    ("examples/fleet", "edge-metal"),
    ("examples/fleet", "all"),
]


@pytest.fixture(scope="module")
def renders(tmp_path_factory):
    out = {}
    for program, stack in PROGRAMS:
        target = tmp_path_factory.mktemp(program.replace("/", "-"))
        out[(program, stack)] = (render_program(ROOT / program, stack, target, evaluate_policies=False), target)
    return out


@pytest.mark.parametrize("program, stack", PROGRAMS)
def test_every_manifest_validates(renders, program, stack):
    result, target = renders[(program, stack)]
    files = sorted(target.glob("*/1-manifest/*.yaml"))
    assert files and len(files) == len(result.manifests)
    for f in files:
        manifest = yaml.safe_load(f.read_text())
        validate_manifest(manifest)
        assert isinstance(manifest.get("metadata", {}).get("name"), str)


@pytest.mark.parametrize("program, stack", PROGRAMS)
def test_plan_json_lists_every_resource(renders, program, stack):
    result, target = renders[(program, stack)]
    plan = json.loads((target / "plan.json").read_text())
    assert len(plan["resources"]) == len(result.resources)
    types = {r["type"] for r in plan["resources"]}
    assert {"llmkube:index:Site", "llmkube:index:InferenceService", "pulumi:providers:kubernetes"} <= types
    for r in plan["resources"]:
        if r["type"].startswith("kubernetes:") and not r.get("providerSide"):
            assert r["parent"], r  # children hang under their component
            assert "-provider::" in r["provider"], r  # and use their site's provider, never the default one
            assert (target / r["file"]).is_file()


def test_workloads_wait_for_namespace_and_operator_charts(renders):
    result, _ = renders[("stacks", "dc")]
    addons = {r.urn for r in result.resources if r.type == "llmkube:index:AddOn"}
    charts = {r.urn for r in result.charts}  # depending on a component records what it contains
    services = [r for r in result.resources if r.type == "llmkube:index:InferenceService"]
    assert len(addons) == 4 and {c.parent for c in result.charts} == addons
    assert services and all(charts <= set(r.dependencies) for r in services)
    assert all(
        any(d.endswith("$kubernetes:core/v1:Namespace::dc-namespace-llmkube") for d in r.dependencies) for r in services
    )


def test_numbers_are_ints_again(renders):
    result, target = renders[("stacks", "dev")]
    deploy = next(m for m in result.manifests if m["kind"] == "Deployment")
    assert deploy["spec"]["replicas"] == 1 and isinstance(deploy["spec"]["replicas"], int)
    text = next(target.glob("dev/1-manifest/apps_v1-deployment-*.yaml")).read_text()
    assert "replicas: 1\n" in text and not re.search(r": [0-9]+\.0$", text, re.M)
    assert text.startswith("apiVersion: apps/v1\nkind: Deployment\nmetadata:")


def test_layout_matches_render_yaml_to_directory(renders):
    _, target = renders[("stacks", "dev")]
    names = {p.name for p in (target / "dev" / "1-manifest").iterdir()}
    assert "apps_v1-deployment-llmkube-dev-chat.yaml" in names
    assert "v1-namespace--llmkube-dev.yaml" in names


def test_dc_lists_operator_charts_as_provider_side(renders):
    result, target = renders[("stacks", "dc")]
    charts = {c.props["chart"] for c in result.charts}
    assert {"gpu-operator", "gpu-operator-charts", "habana-ai-operator", "keda"} <= charts
    plan = json.loads((target / "plan.json").read_text())
    assert {c["chart"]["chart"] for c in plan["providerSideComponents"]} == charts


MULTI_VENDOR = {
    "gemma-moe-amd": ("amd.com/gpu", "feature.node.kubernetes.io/amd-gpu", "rocm/vllm", "HIP_VISIBLE_DEVICES"),
    "qwen-moe-gaudi": ("habana.ai/gaudi", "habana.ai/gaudi", "habanalabs", "PT_HPU_ENABLE_LAZY_COLLECTIVES"),
    "gemma-dense-nvidia": (
        "nvidia.com/gpu",
        "nvidia.com/gpu.present",
        "vllm/vllm-openai",
        "NVIDIA_DRIVER_CAPABILITIES",
    ),
    "qwen-cpu": (None, None, "llama.cpp:server-b", None),
}


@pytest.mark.parametrize("service", sorted(MULTI_VENDOR))
def test_multi_vendor_render(renders, service):
    result, _ = renders[("examples/multi-vendor", None)]
    key, selector, image, env = MULTI_VENDOR[service]
    deploy = next(m for m in result.manifests if m["kind"] == "Deployment" and m["metadata"]["name"] == service)
    pod = deploy["spec"]["template"]["spec"]
    c = pod["containers"][0]
    assert image in c["image"]
    if key is None:
        assert not any("/" in k for k in c["resources"]["limits"]) and "nodeSelector" not in pod
        assert "--n-gpu-layers" not in c["args"]
        return
    assert key in c["resources"]["limits"]
    assert selector in pod["nodeSelector"]
    assert any(t["key"] == key for t in pod["tolerations"])
    assert env in {e["name"] for e in c["env"]}


def test_secure_config_values_are_opaque(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: python\n")
    (tmp_path / "__main__.py").write_text("")
    (tmp_path / "Pulumi.s.yaml").write_text(
        "config:\n  p:token:\n    secure: AAABADEADBEEF\n  p:plain: 3\n  aws:config:region: eu-west-1\n"
    )
    project = load_project(tmp_path, "s")
    assert project.config == {"p:token": SECRET_PLACEHOLDER, "p:plain": "3", "aws:region": "eu-west-1"}
    assert project.secret_keys == ["p:token"]


def test_nested_secure_values_are_opaque_and_mark_their_key(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: python\n")
    (tmp_path / "__main__.py").write_text("")
    (tmp_path / "Pulumi.s.yaml").write_text(
        "config:\n  p:site:\n    name: a\n    kubernetes:\n      kubeconfig:\n        secure: AAAB\n"
    )
    project = load_project(tmp_path, "s")
    assert json.loads(project.config["p:site"]) == {"name": "a", "kubernetes": {"kubeconfig": SECRET_PLACEHOLDER}}
    assert project.secret_keys == ["p:site"]


def test_program_runs_in_its_main_directory(tmp_path):
    """Like the engine: relative paths in a program under `main:` resolve against that directory."""
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: python\nmain: prog/\n")
    (tmp_path / "prog").mkdir()
    (tmp_path / "prog" / "__main__.py").write_text(
        "import os, pulumi\npulumi.export('cwd', os.getcwd())\n"
        "pulumi.CustomResource('test:index:R', 'r', {'cwd': os.getcwd()})\n"
    )
    (tmp_path / "Pulumi.s.yaml").write_text("config: {}\n")
    result = render_program(tmp_path, "s", None, evaluate_policies=False)
    assert next(r for r in result.resources if r.name == "r").props["cwd"] == str((tmp_path / "prog").resolve())


def test_render_is_repeatable_in_one_process(tmp_path):
    a = render_program(ROOT / "stacks", "dev", None, evaluate_policies=False)
    b = render_program(ROOT / "stacks", "dev", None, evaluate_policies=False)
    assert [r.props for r in a.resources] == [r.props for r in b.resources]


@pytest.mark.parametrize("program, stack", PROGRAMS)
def test_renderer_and_policies_see_the_same_objects_and_sites(renders, program, stack):
    """The writer and the rules read registrations through one owner (plan/objects): same objects, same sites."""
    from llmkube_iac.policy.base import Res
    from llmkube_iac.policy.view import StackView

    result, _ = renders[(program, stack)]
    view = StackView([Res(r.urn, r.type, r.name, r.props, r.parent) for r in result.resources])
    for r in result.resources:
        res = view.by_urn[r.urn]
        assert res.is_kubernetes_object == (r.manifest is not None), r.urn
        if r.manifest is not None:
            assert view.site_of(res) == r.site, r.urn
    per_site = {name: {o.urn for o in s.objects} for name, s in view.sites.items()}
    assert per_site == {
        site: {r.urn for r in result.resources if r.manifest is not None and r.site == site} for site in per_site
    }
