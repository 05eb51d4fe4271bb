"""Components under Pulumi's mock runtime: what gets registered, with which parent and outputs."""

from __future__ import annotations

import pulumi
import pytest

from tests.conftest import minimal_stack


class Recorder(pulumi.runtime.Mocks):
    def __init__(self):
        self.created: list = []

    def new_resource(self, args):
        self.created.append(args)
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args):
        return {}, None


@pytest.fixture
def mocks():
    rec = Recorder()
    pulumi.runtime.set_mocks(rec, project="llmkube", stack="test", preview=True)
    return rec


def run(build):
    """Run `build` as a Pulumi program (waiting for every registration); return its outputs' values."""
    seen = {}

    @pulumi.runtime.test
    def program():
        outputs = build()
        return pulumi.Output.all(*outputs).apply(lambda values: seen.setdefault("values", values))

    program()
    return seen["values"]


def test_site_registers_components_and_children(mocks):
    from llmkube_iac import Site

    ns, url = run(lambda: (lambda s: (s.namespace, s.service_urls["chat"]))(Site("test", minimal_stack())))
    assert ns == "llmkube" and url == "http://chat.llmkube.svc.cluster.local:8080/v1"
    types = [a.typ for a in mocks.created]
    assert types.count("llmkube:index:InferenceService") == 1 and types.count("llmkube:index:Model") == 1
    assert "kubernetes:apps/v1:Deployment" in types and "kubernetes:batch/v1:Job" in types
    assert "kubernetes:monitoring.coreos.com/v1:PodMonitor" in types
    names = {a.name for a in mocks.created}
    assert {"test-chat-deployment-llmkube-chat", "test-chat-service-llmkube-chat", "test-provider"} <= names
    assert any(n.startswith("test-tiny-job-llmkube-tiny-fetch-") for n in names)
    deploy = next(a for a in mocks.created if a.typ == "kubernetes:apps/v1:Deployment")
    assert deploy.inputs["metadata"]["name"] == "chat"
    assert deploy.inputs["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
    component = next(a for a in mocks.created if a.typ == "llmkube:index:InferenceService")
    assert component.inputs["spec"]["model"]["source"].startswith("hf://")
    assert component.inputs["site"] == "test"


def test_invalid_stack_registers_nothing(mocks):
    from llmkube_iac import Site
    from llmkube_iac.spec import SpecError

    raw = minimal_stack()
    raw["services"][0]["accelerator"] = {"vendor": "nvidia", "product": "H100"}
    raw["site"]["accelerators"] = [{"name": "l4", "vendor": "nvidia", "product": "NVIDIA L4"}]
    with pytest.raises(SpecError, match="no nvidia pool"):
        Site("bad", raw)
    assert mocks.created == []


def test_standalone_inference_service_outputs(mocks):
    from llmkube_iac import InferenceService
    from llmkube_iac.spec import SiteSpec

    def build():
        svc = InferenceService(
            "solo",
            {"name": "solo", "model": {"source": "pvc://models/a.gguf"}},
            SiteSpec(name="lab", jurisdiction="FR", namespace="ai"),
        )
        return svc.base_url, svc.service_name, svc.namespace

    assert run(build) == ["http://solo.ai.svc.cluster.local:8080/v1", "solo", "ai"]
    assert {a.name for a in mocks.created} >= {
        "solo-deployment-ai-solo",
        "solo-service-ai-solo",
        "solo-networkpolicy-ai-solo",
    }


def test_fleet_gives_each_site_its_provider(mocks):
    from llmkube_iac import Fleet

    a, b = minimal_stack(), minimal_stack()
    b["site"] = {"name": "edge", "jurisdiction": "FR", "kubernetes": {"context": "edge-ctx"}}
    run(lambda: (Fleet("fleet", [a, b]).sites["edge"].namespace,))
    providers = [x for x in mocks.created if x.typ == "pulumi:providers:kubernetes"]
    assert {p.name for p in providers} == {"test-provider", "edge-provider"}
    assert next(p for p in providers if p.name == "edge-provider").inputs["context"] == "edge-ctx"


def test_render_only_site_uses_render_yaml_to_directory(mocks):
    from llmkube_iac import Site

    raw = minimal_stack()
    raw["site"]["kubernetes"] = {"renderOnly": True, "renderDir": "yaml"}
    run(lambda: (Site("test", raw).namespace,))
    provider = next(x for x in mocks.created if x.typ == "pulumi:providers:kubernetes")
    assert provider.inputs["renderYamlToDirectory"] == "yaml/test"


def test_standalone_components_get_the_sites_mirrors(mocks):
    """Used without a Site, InferenceService and Router are planned like a stack: images on the mirror."""
    from llmkube_iac import InferenceService, Router
    from llmkube_iac.spec import InferenceServiceSpec, SiteSpec

    site = SiteSpec(
        name="edge", jurisdiction="DE", airGapped=True, registryMirrors=[{"mirror": "registry.edge.local/proxy"}]
    )
    svc = {"name": "solo", "model": {"name": "m", "source": "pvc://models/a.gguf"}}
    router = {
        "name": "gw",
        "masterKeySecret": {"name": "gw-keys", "key": "master"},
        "backends": [{"name": "local", "service": "solo"}],
        "modelGroups": [{"name": "chat", "backends": ["local"]}],
    }
    run(
        lambda: (
            InferenceService("solo", svc, site).base_url,
            Router("gw", router, site, [InferenceServiceSpec.model_validate(svc)]).sovereign_url,
        )
    )
    pods = [a.inputs["spec"]["template"]["spec"] for a in mocks.created if a.typ == "kubernetes:apps/v1:Deployment"]
    images = [c["image"] for pod in pods for c in pod["containers"] + pod.get("initContainers", [])]
    assert len(pods) == 2 and images and all(i.startswith("registry.edge.local/proxy/") for i in images)


def test_site_models_keep_their_planned_name(mocks):
    """An unnamed inline model is planned as `<service>-model`; its Model component says the same."""
    from llmkube_iac import Site

    raw = minimal_stack(models=[], services=[{"name": "chat", "model": {"source": "hf://org/tiny-GGUF/tiny.gguf"}}])

    def build():
        model = Site("test", raw).models["chat-model"]
        return model.cache_claim, pulumi.Output.from_input(model.model_name)

    assert run(build) == ["chat-model-cache", "chat-model"]
    pvc = next(a for a in mocks.created if a.typ == "kubernetes:core/v1:PersistentVolumeClaim")
    assert pvc.inputs["metadata"]["name"] == "chat-model-cache"
