"""Add-on charts (pure): mirrored image values, one Node Feature Discovery per site, a namespace per
chart, the order a component's objects are applied in, bounded names."""

from __future__ import annotations

import re

import pytest

from llmkube_iac.addons import ADDONS, NFD_GROUP, ChartImage
from llmkube_iac.plan.charts import HELM_API, chart_namespaces, helm_release
from llmkube_iac.plan.images import apply_mirrors, rewrite_image, rewrite_prefix
from llmkube_iac.plan.meta import bounded_name
from llmkube_iac.plan.model import plan_model
from llmkube_iac.plan.ordering import apply_order, prerequisites
from llmkube_iac.plan.site import plan_site_base
from llmkube_iac.spec import ModelSpec, SiteSpec

HOSTS = [
    {"source": "ghcr.io", "mirror": "reg.site/ghcr"},
    {"source": "docker.io", "mirror": "reg.site/hub"},
    {"source": "nvcr.io", "mirror": "reg.site/nvcr"},
]


def site(**kw) -> SiteSpec:
    base = {"name": "s", "jurisdiction": "DE", "operators": {"gpuOperators": True, "keda": True}}
    base.update(kw)
    return SiteSpec.model_validate(base)


def _get(values: dict, dotted: str):
    for key in dotted.split("."):
        values = values[key]
    return values


def charts(s: SiteSpec) -> dict[str, dict]:
    """The site's chart pseudo-manifests as registered: after the one mirror rewrite (plan/images.py)."""
    return {
        m["metadata"]["name"]: m
        for m in apply_mirrors(plan_site_base(s), s.registry_mirrors)
        if m["apiVersion"] == HELM_API
    }


@pytest.mark.parametrize(
    "image, mirrors, expected",
    [
        (ChartImage("k", "ghcr.io"), HOSTS, "reg.site/ghcr"),  # a bare registry (KEDA's image.keda.registry)
        (ChartImage("k", "ghcr.io"), [{"source": "*", "mirror": "proxy.site"}], "proxy.site/ghcr.io"),
        (ChartImage("k", "nvcr.io/nvidia/k8s"), HOSTS, "reg.site/nvcr/nvidia/k8s"),
        (ChartImage("k", "intel"), HOSTS, "reg.site/hub/intel"),  # a Docker Hub organisation
        (
            ChartImage("k", "rocm/k8s-device-plugin:latest", prefix=False),
            HOSTS,
            "reg.site/hub/rocm/k8s-device-plugin:latest",
        ),
        (ChartImage("k", "busybox:1.36", prefix=False), HOSTS, "reg.site/hub/library/busybox:1.36"),
        (
            ChartImage("k", "quay.io/brancz/kube-rbac-proxy:v0.18.1", prefix=False),
            HOSTS,
            "quay.io/brancz/kube-rbac-proxy:v0.18.1",
        ),  # no mirror for quay.io: unchanged (airgap-images refuses it)
    ],
)
def test_chart_image_values_are_rewritten_like_references(image, mirrors, expected):
    mirrors = site(registryMirrors=mirrors).registry_mirrors
    assert (rewrite_prefix if image.prefix else rewrite_image)(image.default, mirrors) == expected


def test_chart_values_point_at_the_mirrors_and_the_declaration_records_them():
    s = site(accelerators=[{"name": "n", "vendor": "nvidia"}], registryMirrors=HOSTS)
    gpu, keda = charts(s)["gpu-operator"], charts(s)["keda"]
    values = gpu["spec"]["values"]
    assert _get(values, "operator.repository") == "reg.site/nvcr/nvidia"
    assert _get(values, "toolkit.repository") == "reg.site/nvcr/nvidia/k8s"
    assert {i["key"]: i["value"] for i in gpu["spec"]["images"]}["devicePlugin.repository"] == "reg.site/nvcr/nvidia"
    assert _get(keda["spec"]["values"], "image.webhooks.registry") == "reg.site/ghcr"
    assert keda["spec"]["provides"] == ["keda.sh", "eventing.keda.sh"]
    # no mirrors: nothing is overridden, the declaration records the chart's defaults
    plain = charts(site(accelerators=[{"name": "n", "vendor": "nvidia"}]))["gpu-operator"]
    assert plain["spec"]["values"] == {}
    defaults = ADDONS["gpu-operator"].images
    assert [i["value"] for i in plain["spec"]["images"]] == [j.default for j in defaults]


def test_unverified_chart_records_no_images_and_chart_registry_makes_oci_references():
    s = site(
        accelerators=[{"name": "g", "vendor": "intel-gaudi"}],
        operators={"gpuOperators": True, "chartRegistry": "reg.site/charts"},
    )
    gaudi = charts(s)["habana-ai-operator"]
    assert gaudi["spec"]["images"] is None
    assert gaudi["spec"]["chart"] == "oci://reg.site/charts/habana-ai-operator" and gaudi["spec"]["repository"] is None


def test_node_feature_discovery_runs_once_per_site():
    both = charts(site(accelerators=[{"name": "a", "vendor": "amd"}, {"name": "n", "vendor": "nvidia"}]))
    amd, nvidia = both["amd-gpu-operator"], both["gpu-operator"]
    assert _get(amd["spec"]["values"], "node-feature-discovery.enabled") is False  # NVIDIA's NFD labels the nodes
    assert "nfd" not in nvidia["spec"]["values"]
    assert NFD_GROUP in nvidia["spec"]["provides"] and NFD_GROUP not in amd["spec"]["provides"]
    assert NFD_GROUP in amd["spec"]["requires"] and "cert-manager.io" in amd["spec"]["requires"]
    alone = charts(site(accelerators=[{"name": "a", "vendor": "amd"}]))["amd-gpu-operator"]
    assert "node-feature-discovery" not in alone["spec"]["values"] and NFD_GROUP in alone["spec"]["provides"]


def test_every_chart_gets_its_namespace_before_it():
    s = site(accelerators=[{"name": "a", "vendor": "amd"}, {"name": "n", "vendor": "nvidia"}])
    plan = plan_site_base(s)
    namespaces = {m["metadata"]["name"]: m for m in plan if m["kind"] == "Namespace"}
    assert set(namespaces) == {"llmkube", "kube-amd-gpu", "gpu-operator", "keda"}
    assert namespaces["gpu-operator"]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    assert "pod-security.kubernetes.io/enforce" not in namespaces["keda"]["metadata"]["labels"]
    order = [plan[i] for i in apply_order(plan)]
    index = {(m["kind"], m["metadata"]["name"]): n for n, m in enumerate(order)}
    for name, ns in (("gpu-operator", "gpu-operator"), ("amd-gpu-operator", "kube-amd-gpu"), ("keda", "keda")):
        assert index[("Namespace", ns)] < index[("HelmChart", name)]
    assert index[("HelmChart", "gpu-operator")] < index[("HelmChart", "amd-gpu-operator")]  # NFD's CRDs first


def test_chart_namespaces_skip_system_and_existing_namespaces():
    s = site()
    chart = helm_release(ADDONS["keda"], s)
    chart["metadata"]["namespace"] = "kube-system"
    assert chart_namespaces([chart], s) == []
    existing = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "keda", "labels": {}}}
    assert chart_namespaces([existing, helm_release(ADDONS["keda"], s)], s) == []


def test_prerequisites_and_cycles():
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}
    cert = {"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": {"name": "c", "namespace": "a"}}
    deploy = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d", "namespace": "a"},
        "spec": {"template": {"spec": {"containers": []}}},
    }
    other = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "elsewhere"}}
    assert prerequisites([deploy, cert, ns, other]) == [[1, 2], [2], [], []]
    assert [m["kind"] for m in (deploy, cert, ns, other)] == ["Deployment", "Certificate", "Namespace", "ConfigMap"]
    assert apply_order([deploy, cert, ns, other]) == [2, 1, 0, 3]
    a = {
        "apiVersion": HELM_API,
        "kind": "HelmChart",
        "metadata": {"name": "a"},
        "spec": {"provides": ["x.io"], "requires": ["y.io"]},
    }
    b = {
        "apiVersion": HELM_API,
        "kind": "HelmChart",
        "metadata": {"name": "b"},
        "spec": {"provides": ["y.io"], "requires": ["x.io"]},
    }
    with pytest.raises(ValueError, match="dependency cycle"):
        apply_order([a, b])


def test_bounded_names_stay_valid_distinct_and_deterministic():
    long_a, long_b = "m" * 60 + "-a", "m" * 60 + "-b"
    a, b = bounded_name(long_a, "-fetch-12345678"), bounded_name(long_b, "-fetch-12345678")
    assert len(a) == len(b) == 63 and a != b and a == bounded_name(long_a, "-fetch-12345678")
    assert bounded_name("short", "-fetch-1") == "short-fetch-1"
    with pytest.raises(ValueError):
        bounded_name("x", "-" * 70)


@pytest.mark.parametrize("length", [48, 49, 63])
def test_download_job_name_fits_a_label(length):
    name = "q" * length
    model = ModelSpec(name=name, source="hf://org/repo-GGUF/file-Q4_K_M.gguf", sizeGiB=1)
    job = next(m for m in plan_model(site(), model, name) if m["kind"] == "Job")
    job_name = job["metadata"]["name"]
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", job_name), job_name
    assert re.search(r"-fetch-[0-9a-z]{8}$", job_name)
    assert job_name.startswith(name) == (length <= 48)
