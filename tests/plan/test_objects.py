"""plan/objects: what a registered resource is, as the renderer, the rules and registration read it."""

from __future__ import annotations

from collections import UserDict, UserList
from dataclasses import dataclass

import pytest

from llmkube_iac.plan.objects import (
    CHART_TYPES,
    SITE_TYPE,
    is_builtin_api,
    is_kubernetes_object,
    own_site,
    plain,
    site_of,
)


@pytest.mark.parametrize(
    "api_version, builtin",
    [
        ("v1", True),
        ("apps/v1", True),
        ("batch/v1", True),
        ("policy/v1", True),
        ("autoscaling/v2", True),
        ("networking.k8s.io/v1", True),
        ("rbac.authorization.k8s.io/v1", True),
        ("coordination.k8s.io/v1", True),
        ("keda.sh/v1alpha1", False),
        ("monitoring.coreos.com/v1", False),
        ("cert-manager.io/v1", False),
        ("llmkube.dev/v1", False),
    ],
)
def test_builtin_api_groups(api_version, builtin):
    assert is_builtin_api(api_version) is builtin


def test_kubernetes_objects_are_manifests_not_charts_or_providers():
    deploy = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}}
    assert is_kubernetes_object("kubernetes:apps/v1:Deployment", deploy)
    assert is_kubernetes_object("kubernetes:keda.sh/v1alpha1:ScaledObject", {**deploy, "kind": "ScaledObject"})
    assert all(not is_kubernetes_object(t, {"chart": "keda", "kind": "x"}) for t in CHART_TYPES)
    assert not is_kubernetes_object("pulumi:providers:kubernetes", {"namespace": "x"})
    assert not is_kubernetes_object(SITE_TYPE, {"spec": {"name": "s"}})
    assert not is_kubernetes_object("kubernetes:yaml/v2:ConfigGroup", {"yaml": "..."})
    assert not is_kubernetes_object("kubernetes:apps/v1:Deployment", None)


def test_plain_turns_wire_values_into_json():
    wire = UserDict({"replicas": 2.0, "ratio": 0.5, "ports": UserList([8080.0, {"port": 53.0}]), 3: (1.0, "a")})
    assert plain(wire) == {"replicas": 2, "ratio": 0.5, "ports": [8080, {"port": 53}], "3": [1, "a"]}
    assert type(plain(wire)["replicas"]) is int and plain(True) is True and plain(b"x") == b"x"


@dataclass
class R:
    urn: str
    type: str
    props: object
    parent: str | None = None


def test_site_of_own_declaration_then_ancestors():
    site = R("u:site", SITE_TYPE, {"spec": {"name": "edge"}})
    model = R("u:model", "llmkube:index:Model", {"spec": {}, "site": "edge"}, "u:site")
    chart = R("u:chart", CHART_TYPES[0], {"chart": "keda"}, "u:site")
    job = R(
        "u:job",
        "kubernetes:batch/v1:Job",
        {"kind": "Job", "metadata": {"labels": {"llmkube.dev/site": "dc"}}},
        "u:model",
    )
    pvc = R(
        "u:pvc",
        "kubernetes:core/v1:PersistentVolumeClaim",
        {"kind": "PersistentVolumeClaim", "metadata": {}},
        "u:model",
    )
    orphan = R("u:orphan", "kubernetes:core/v1:ConfigMap", {"kind": "ConfigMap"}, "u:gone")
    loop = R("u:loop", "kubernetes:core/v1:ConfigMap", {"kind": "ConfigMap"}, "u:loop")
    by_urn = {r.urn: r for r in (site, model, chart, job, pvc, orphan, loop)}
    assert [site_of(r, by_urn.get) for r in (site, model, chart, job, pvc, orphan, loop)] == [
        "edge",
        "edge",
        "edge",
        "dc",
        "edge",
        None,
        None,
    ]
    assert own_site("kubernetes:core/v1:ConfigMap", {"metadata": {"labels": ["not", "a", "map"]}}) is None
