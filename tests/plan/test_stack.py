"""Planners: vendor dispatch, runtime arguments, security, autoscaling, mirrors (pure, no Pulumi)."""

from __future__ import annotations

import pytest

from llmkube_iac.plan.errors import PlanError
from llmkube_iac.plan.images import rewrite_image
from llmkube_iac.plan.stack import plan_stack
from llmkube_iac.spec import RegistryMirror, load_stack_config
from tests.conftest import minimal_stack
from tests.support.k8s_schema import validate_manifest


def by_kind(manifests, kind):
    return [m for m in manifests if m["kind"] == kind]


def deployment(cfg_raw, name="chat"):
    plan = plan_stack(load_stack_config(cfg_raw))
    return by_kind(plan.services[name].manifests, "Deployment")[0], plan


def container(deploy):
    return deploy["spec"]["template"]["spec"]["containers"][0]


def test_cpu_llamacpp_service_is_complete_and_valid():
    deploy, plan = deployment(minimal_stack())
    kinds = sorted(m["kind"] for m in plan.services["chat"].manifests)
    assert kinds == ["Deployment", "NetworkPolicy", "PodMonitor", "Service", "ServiceAccount"]
    for m in plan.all_manifests():
        if m["apiVersion"] != "llmkube.dev/v1":
            validate_manifest(m)
    c = container(deploy)
    assert c["args"][:2] == ["--model", "/models/src-" + c["args"][1].split("/src-")[1]]
    assert "--n-gpu-layers" not in c["args"] and "--metrics" in c["args"]
    pod = deploy["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False and pod["securityContext"]["runAsNonRoot"] is True
    assert c["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert c["securityContext"]["allowPrivilegeEscalation"] is False
    assert set(c) >= {"startupProbe", "readinessProbe", "livenessProbe"}
    assert c["resources"]["limits"]["memory"] == c["resources"]["requests"]["memory"]
    assert {v["name"] for v in pod["volumes"]} == {"models", "tmp", "cache"}
    assert plan.services["chat"].base_url == "http://chat.llmkube.svc.cluster.local:8080/v1"


VENDOR_CASES = [
    (
        "nvidia",
        "vllm",
        "nvidia.com/gpu",
        {"nvidia.com/gpu.present": "true"},
        "vllm/vllm-openai",
        "NVIDIA_DRIVER_CAPABILITIES",
    ),
    ("amd", "vllm", "amd.com/gpu", {"feature.node.kubernetes.io/amd-gpu": "true"}, "rocm/vllm", "HIP_VISIBLE_DEVICES"),
    (
        "intel-gaudi",
        "vllm",
        "habana.ai/gaudi",
        {"habana.ai/gaudi": "true"},
        "habanalabs",
        "OMPI_MCA_btl_vader_single_copy_mechanism",
    ),
    (
        "intel-xpu",
        "llamacpp",
        "gpu.intel.com/i915",
        {"intel.feature.node.kubernetes.io/gpu": "true"},
        "server-intel",
        "ONEAPI_DEVICE_SELECTOR",
    ),
    (
        "nvidia",
        "llamacpp",
        "nvidia.com/gpu",
        {"nvidia.com/gpu.present": "true"},
        "server-cuda",
        "NVIDIA_DRIVER_CAPABILITIES",
    ),
    (
        "amd",
        "llamacpp",
        "amd.com/gpu",
        {"feature.node.kubernetes.io/amd-gpu": "true"},
        "server-rocm",
        "HIP_VISIBLE_DEVICES",
    ),
]


@pytest.mark.parametrize("vendor, runtime, key, selector, image, env", VENDOR_CASES)
def test_vendor_dispatch(vendor, runtime, key, selector, image, env):
    raw = minimal_stack()
    raw["services"][0].update(runtime=runtime, accelerator={"vendor": vendor, "count": 2})
    deploy, _ = deployment(raw)
    c, pod = container(deploy), deploy["spec"]["template"]["spec"]
    assert c["resources"]["limits"][key] == "2" and c["resources"]["requests"][key] == "2"
    assert pod["nodeSelector"].items() >= selector.items()
    assert any(t["key"] == key for t in pod["tolerations"])
    assert image in c["image"]
    assert env in {e["name"] for e in c["env"]}
    assert any(v["name"] == "dshm" and v["emptyDir"]["medium"] == "Memory" for v in pod["volumes"])
    assert deploy["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 0, "maxUnavailable": 1}
    validate_manifest(deploy)


def test_gaudi_multi_device_env_and_vllm_tensor_parallel():
    raw = minimal_stack()
    raw["services"][0].update(runtime="vllm", accelerator={"vendor": "intel-gaudi", "count": 4}, contextSize=8192)
    c = container(deployment(raw)[0])
    env = {e["name"]: e["value"] for e in c["env"]}
    assert env["PT_HPU_ENABLE_LAZY_COLLECTIVES"] == "true"
    args = c["args"]
    assert args[args.index("--tensor-parallel-size") + 1] == "4"
    assert args[args.index("--max-model-len") + 1] == "8192"
    assert c["command"] == ["vllm", "serve"]


def test_llamacpp_engine_flags_in_fixed_order():
    raw = minimal_stack()
    raw["services"][0].update(
        accelerator={"vendor": "nvidia", "count": 2},
        contextSize=16384,
        parallelSlots=4,
        flashAttention=True,
        kvCacheTypeK="q8_0",
        kvCacheTypeV="q8_0",
        sharding={"mode": "row", "splitRatios": [3, 1]},
        moeCpuOffload={"layers": 10},
        mode="chat",
        extraArgs=["--no-webui"],
    )
    args = container(deployment(raw)[0])["args"]
    flags = [a for a in args if a.startswith("--")]
    assert flags == [
        "--model",
        "--host",
        "--port",
        "--alias",
        "--ctx-size",
        "--parallel",
        "--n-gpu-layers",
        "--split-mode",
        "--tensor-split",
        "--flash-attn",
        "--jinja",
        "--cache-type-k",
        "--cache-type-v",
        "--n-cpu-moe",
        "--metrics",
        "--no-slots",
        "--no-webui",
    ]
    assert args[args.index("--tensor-split") + 1] == "3,1"
    assert args[args.index("--flash-attn") + 1] == "on"
    # the same spec always plans the same arguments
    assert args == container(deployment(raw)[0])["args"]


@pytest.mark.parametrize("mode, flag", [("embedding", "--embedding"), ("rerank", "--reranking")])
def test_llamacpp_modes(mode, flag):
    raw = minimal_stack()
    raw["services"][0].update(mode=mode)
    args = container(deployment(raw)[0])["args"]
    assert flag in args and "--jinja" not in args


def test_keda_queue_autoscaling_omits_replicas_and_adds_pdb():
    raw = minimal_stack()
    raw["services"][0].update(autoscaling={"minReplicas": 0, "maxReplicas": 4, "target": 6})
    deploy, plan = deployment(raw)
    assert "replicas" not in deploy["spec"]
    so = by_kind(plan.services["chat"].manifests, "ScaledObject")[0]
    assert so["spec"]["minReplicaCount"] == 0 and so["spec"]["maxReplicaCount"] == 4
    trigger = so["spec"]["triggers"][0]
    assert trigger["type"] == "prometheus" and "llamacpp:requests_deferred" in trigger["metadata"]["query"]
    assert trigger["metadata"]["threshold"] == "6"
    validate_manifest(so)
    assert by_kind(plan.services["chat"].manifests, "PodDisruptionBudget")


def test_cpu_autoscaling_is_an_hpa():
    raw = minimal_stack()
    raw["services"][0].update(autoscaling={"minReplicas": 1, "maxReplicas": 3, "signal": "cpu", "target": 70})
    _, plan = deployment(raw)
    hpa = by_kind(plan.services["chat"].manifests, "HorizontalPodAutoscaler")[0]
    assert hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 70
    validate_manifest(hpa)


def test_ollama_cannot_autoscale_on_queue():
    raw = minimal_stack()
    raw["services"][0].update(runtime="ollama", autoscaling={"maxReplicas": 2})
    with pytest.raises(PlanError) as info:
        plan_stack(load_stack_config(raw))
    assert info.value.problems[0][0] == "services[0].autoscaling.signal"


def test_ollama_pods_and_metal_hosts_run_the_one_registered_wrapper():
    from llmkube_iac.runtimes import native_runtime
    from llmkube_iac.runtimes.ollama import COMMAND

    raw = minimal_stack()
    raw["services"][0].update(runtime="ollama", extraArgs=["--ignored"])
    c = container(deployment(raw)[0])
    assert c["command"] == list(COMMAND) == list(native_runtime("ollama").command)
    assert c["args"][1:] == ["tiny", "--ignored"] and c["args"][0].startswith("/models/")  # $1 weights, $2 name


def test_network_policy_admits_only_labelled_clients_without_routers():
    _, plan = deployment(minimal_stack())
    np = by_kind(plan.services["chat"].manifests, "NetworkPolicy")[0]
    clients = [{"podSelector": {"matchLabels": {"client.llmkube.dev/chat": "allowed"}}}]
    assert np["spec"]["ingress"][0]["from"] == clients


def test_download_job_and_init_step_for_remote_sources():
    raw = minimal_stack()
    raw["models"][0]["sha256"] = "ab" * 32
    raw["site"]["hfEndpoint"] = "https://hf-mirror.site.local"
    plan = plan_stack(load_stack_config(raw))
    _, manifests = plan.models["tiny"]
    pvc, job, _ = manifests
    assert pvc["spec"]["resources"]["requests"]["storage"].endswith("Gi")
    args = job["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[:2] == ["fetch", "hf://org/tiny-GGUF/tiny-Q4_K_M.gguf"] and args[-2:] == ["--sha256", "ab" * 32]
    job_env = job["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "HF_ENDPOINT", "value": "https://hf-mirror.site.local"} in job_env
    init = plan.services["chat"].manifests[1]["spec"]["template"]["spec"]["initContainers"][0]
    script, *argv = init["command"][2:]
    assert "not in the cache" in script and "ab" * 32 not in script  # values are arguments, not script text
    assert argv == [
        "verify-model",
        f"/models/sha256-{'ab' * 16}/.llmkube-verified.json",
        "ab" * 32,
        "hf://org/tiny-GGUF/tiny-Q4_K_M.gguf",
        job["metadata"]["name"],
    ]
    validate_manifest(job)


def test_pvc_source_is_mounted_without_download():
    raw = minimal_stack()
    raw["models"][0]["source"] = "pvc://shared-models/qwen/tiny.gguf"
    plan = plan_stack(load_stack_config(raw))
    assert plan.models["tiny"][1] == []
    deploy = plan.services["chat"].manifests[1]
    vol = deploy["spec"]["template"]["spec"]["volumes"][0]
    assert vol["persistentVolumeClaim"]["claimName"] == "shared-models"
    assert "--model" in container(deploy)["args"] and "/models/qwen/tiny.gguf" in container(deploy)["args"]
    assert "initContainers" not in deploy["spec"]["template"]["spec"]


def test_file_source_is_refused_on_kubernetes():
    raw = minimal_stack()
    raw["models"][0]["source"] = "file:///srv/tiny.gguf"
    with pytest.raises(PlanError) as info:
        plan_stack(load_stack_config(raw))
    assert info.value.problems[0][0].startswith("services[0].model")


def test_product_selects_pool_and_unknown_product_is_refused():
    raw = minimal_stack()
    raw["site"]["accelerators"] = [
        {
            "name": "l4",
            "vendor": "nvidia",
            "product": "NVIDIA L4",
            "memoryGiB": 24,
            "devicesPerNode": 2,
            "nodeLabels": {"pool": "l4"},
            "taints": [{"key": "dedicated", "value": "llm"}],
        }
    ]
    raw["services"][0].update(accelerator={"vendor": "nvidia", "product": "L4"})
    deploy, _ = deployment(raw)
    pod = deploy["spec"]["template"]["spec"]
    assert pod["nodeSelector"]["pool"] == "l4"
    assert {"key": "dedicated", "operator": "Equal", "value": "llm", "effect": "NoSchedule"} in pod["tolerations"]
    assert deploy["metadata"]["labels"]["llmkube.dev/memory-tier"] == "24Gi"
    raw["services"][0].update(accelerator={"vendor": "nvidia", "product": "H100"})
    with pytest.raises(PlanError, match="no nvidia pool"):
        plan_stack(load_stack_config(raw))


def test_registry_mirror_rewrites_every_image():
    raw = minimal_stack()
    raw["site"].update(
        airGapped=True,
        registryMirrors=[{"source": "ghcr.io", "mirror": "harbor.local/ghcr"}, {"mirror": "harbor.local/proxy"}],
    )
    plan = plan_stack(load_stack_config(raw))
    images = []
    for m in plan.all_manifests():
        spec = m.get("spec", {}).get("template", {}).get("spec", {})
        images += [c["image"] for c in spec.get("containers", []) + spec.get("initContainers", [])]
    assert images and all(i.startswith("harbor.local/") for i in images)
    assert any(n["kind"] == "NetworkPolicy" and n["metadata"]["name"] == "default-deny-egress" for n in plan.site)


@pytest.mark.parametrize(
    "image, expected",
    [
        ("ghcr.io/ggml-org/llama.cpp:server", "m.local/ghcr.io/ggml-org/llama.cpp:server"),
        ("vllm/vllm-openai:v1", "m.local/docker.io/vllm/vllm-openai:v1"),
        ("busybox", "m.local/docker.io/library/busybox"),
        ("m.local/already/there:1", "m.local/already/there:1"),
    ],
)
def test_rewrite_image_wildcard(image, expected):
    assert rewrite_image(image, (RegistryMirror(mirror="m.local"),)) == expected
