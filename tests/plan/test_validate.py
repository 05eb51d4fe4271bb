"""The plan's last gate: derived names stay within limits, invalid derived fields and collisions are refused."""

from __future__ import annotations

import pytest

from llmkube_iac.plan.stack import plan_stack
from llmkube_iac.plan.validate import check_objects, manifest_problems
from llmkube_iac.spec import SpecError, load_stack_config
from tests.conftest import minimal_stack
from tests.support.k8s_schema import validate_manifest


def test_long_derived_job_names_are_bounded_and_shared_with_the_verify_step():
    raw = minimal_stack(models=[], services=[{"name": "c" * 63, "model": {"source": "hf://org/repo/m.gguf"}}])
    plan = plan_stack(load_stack_config(raw))
    ((_, (_, manifests)),) = plan.models.items()
    job = next(m for m in manifests if m["kind"] == "Job")
    name = job["metadata"]["name"]
    assert len(name) == 63 and name.startswith("c" * 30) and "-fetch-" in name
    validate_manifest(job)
    deployment = plan.services["c" * 63].manifests[1]
    assert deployment["spec"]["template"]["spec"]["initContainers"][0]["command"][-1] == name
    _, manifests = plan_stack(load_stack_config(raw)).models[f"{'c' * 63}-model"]
    again = next(m for m in manifests if m["kind"] == "Job")["metadata"]["name"]
    assert again == name


def test_a_derived_label_value_that_is_too_long_is_refused_at_the_service():
    """A product name becomes a node-selector label value; 64+ characters cannot be one."""
    raw = minimal_stack()
    raw["services"][0].update(runtime="vllm", accelerator={"vendor": "nvidia", "product": "H100 " * 14})
    with pytest.raises(SpecError) as err:
        plan_stack(load_stack_config(raw))
    ((path, message),) = err.value.problems
    assert path == "services[0]" and "nodeSelector" in message and "label value" in message


def _cm(name: str, **data) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "ns"}, "data": data}


def test_objects_made_twice_are_named_with_both_components():
    with pytest.raises(SpecError) as err:
        check_objects(
            [("services[0]", _cm("x")), ("routers[1]", _cm("x")), ("routers[1]", _cm("y")), ("routers[1]", _cm("y"))]
        )
    assert err.value.problems == [
        (
            "routers[1]",
            "ConfigMap x is created also by services[0]: rename one of them, or the objects would overwrite each other",
        ),
        (
            "routers[1]",
            "ConfigMap y is created twice by this component: rename one of them, or the objects would "
            "overwrite each other",
        ),
    ]
    check_objects([("a", _cm("x")), ("a", {**_cm("x"), "metadata": {"name": "x", "namespace": "other"}})])


@pytest.mark.parametrize(
    "manifest, field, reason",
    [
        ({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "9svc"}}, "metadata.name", "DNS-1035"),
        ({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j" * 64}}, "metadata.name", "at most 63"),
        (_cm("big", blob="x" * (1100 << 10)), "data", "over a ConfigMap's 1024 KiB"),
        (
            {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"replicas": 2**31}},
            "spec.replicas",
            "int32",
        ),
        (
            {
                "apiVersion": "autoscaling/v2",
                "kind": "HorizontalPodAutoscaler",
                "metadata": {"name": "h"},
                "spec": {"behavior": {"scaleDown": {"stabilizationWindowSeconds": 3601}}},
            },
            "spec.behavior.scaleDown.stabilizationWindowSeconds",
            "outside 0-3600",
        ),
        (
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": {"name": "n"},
                "spec": {"egress": [{"to": [{"ipBlock": {"cidr": "1.2.3.4/40"}}]}]},
            },
            "spec.egress[0].to[0].ipBlock.cidr",
            "not a CIDR",
        ),
        (
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"a": "b c"}}},
            "metadata.labels['a']",
            "label value",
        ),
        (
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "p"},
                "spec": {"containers": [{"resources": {"requests": {"memory": "lots"}}}]},
            },
            "spec.containers[0].resources.requests.memory",
            "not a Kubernetes quantity",
        ),
    ],
)
def test_manifest_problems(manifest, field, reason):
    problems = manifest_problems(manifest)
    assert any(f == field and reason in r for f, r in problems), problems


def test_the_shipped_stacks_pass_the_gate(repo_root):
    import yaml

    for path in ("stacks/Pulumi.dev.yaml", "stacks/Pulumi.dc.yaml", "examples/airgapped-edge/Pulumi.edge.yaml"):
        raw = {k.split(":", 1)[1]: v for k, v in yaml.safe_load((repo_root / path).read_text())["config"].items()}
        plan_stack(load_stack_config(raw))  # raises on any problem
