"""What the real engine would be given: release names, secrets, providers, protection, readiness waits,
and logical names that never change when the stack grows. Runs the components under the offline
engine's recording monitor (the RegisterResource requests as the engine receives them)."""

from __future__ import annotations

import copy
import importlib.util
import json

import pulumi
import pulumi_kubernetes as k8s
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmkube_iac.render.engine import run_callable
from llmkube_iac.render.project import SECRET_PLACEHOLDER
from llmkube_iac.spec import SpecError
from tests.conftest import ROOT, minimal_stack

KUBECONFIG = "apiVersion: v1\nkind: Config\nusers: [{name: u, user: {token: very-secret-token}}]\n"


def records(build, **kw):
    return run_callable(build, **kw)


def by_type(rs, type_):
    return [r for r in rs if r.type == type_]


def stack(**site) -> dict:
    cfg = minimal_stack()
    cfg["site"].update({"clusterProvides": ["monitoring.coreos.com"], **site})
    return cfg


def test_add_on_chart_uses_its_own_release_name_and_records_its_declaration():
    from llmkube_iac import Site

    rs = records(lambda: Site("dc", stack(operators={"keda": True})))
    (addon,) = by_type(rs, "llmkube:index:AddOn")
    (chart,) = by_type(rs, "kubernetes:helm.sh/v4:Chart")
    assert addon.name == "dc-addon-keda" and chart.parent == addon.urn and chart.name == "dc-keda"
    assert chart.props["name"] == "keda" and chart.props["namespace"] == "keda"  # not the logical name
    assert addon.props["chart"] == "keda" and addon.props["provides"] == ["keda.sh", "eventing.keda.sh"]
    assert addon.props["release"] == "keda" and addon.props["images"][0]["key"] == "image.keda.registry"
    ns = next(r for r in rs if r.type == "kubernetes:core/v1:Namespace" and r.props["metadata"]["name"] == "keda")
    assert ns.urn in addon.dependencies


def test_kubeconfig_stays_secret_in_provider_and_site_spec():
    from llmkube_iac import Site

    rs = records(lambda: Site("t", stack(kubernetes={"kubeconfig": KUBECONFIG, "context": "prod"})))
    (provider,) = by_type(rs, "pulumi:providers:kubernetes")
    (site,) = by_type(rs, "llmkube:index:Site")
    assert provider.props["kubeconfig"] == SECRET_PLACEHOLDER and provider.props["context"] == "prod"
    assert site.props["spec"]["kubernetes"]["kubeconfig"] == SECRET_PLACEHOLDER
    assert "very-secret-token" not in json.dumps([r.props for r in rs])


def test_kubeconfig_secret_in_the_outputs_too(monkeypatch):
    """The outputs a stack policy reads under the engine: the spec there carries the secret marker."""
    from llmkube_iac.components import site as site_module

    captured = {}
    original = site_module.Site.register_outputs

    def spy(self, outputs):
        captured.update(outputs)
        return original(self, outputs)

    monkeypatch.setattr(site_module.Site, "register_outputs", spy)
    records(lambda: site_module.Site("t", stack(kubernetes={"kubeconfig": KUBECONFIG})))
    secret = captured["spec"]["kubernetes"]["kubeconfig"]
    assert isinstance(secret, pulumi.Output) and _is_secret(secret)


def _is_secret(output: pulumi.Output) -> bool:
    import asyncio

    return asyncio.new_event_loop().run_until_complete(output.is_secret())


def _program_config(cfg: dict) -> dict:
    return {f"llmkube:{k}": json.dumps(v) for k, v in cfg.items()}


def test_secret_config_keys():
    from llmkube_iac.components.program import stack_config_from_pulumi

    cfg = stack(kubernetes={"kubeconfig": KUBECONFIG})
    seen = {}
    records(
        lambda: seen.setdefault("raw", stack_config_from_pulumi()),
        config=_program_config(cfg),
        secret_keys=("llmkube:site",),
    )
    assert seen["raw"]["site"]["kubernetes"]["kubeconfig"] == KUBECONFIG  # planned from, kept secret downstream
    with pytest.raises(SpecError, match="llmkube:services holds a secret value"):
        records(stack_config_from_pulumi, config=_program_config(cfg), secret_keys=("llmkube:services",))


def test_render_only_override_for_a_ci_gate_without_a_cluster():
    from llmkube_iac.components.program import stack_config_from_pulumi

    cfg = stack(kubernetes={"kubeconfig": KUBECONFIG, "context": "prod", "cluster": "eu-1"})
    config = {**_program_config(cfg), "llmkube:renderOnlyDir": "rendered"}
    seen = {}
    records(lambda: seen.setdefault("raw", stack_config_from_pulumi()), config=config)
    assert seen["raw"]["site"]["kubernetes"] == {"renderOnly": True, "renderDir": "rendered", "cluster": "eu-1"}


def test_own_provider_has_a_cluster_identifier_and_mutable_config_maps():
    from llmkube_iac import Site

    (provider,) = by_type(
        records(lambda: Site("t", stack(kubernetes={"context": "prod"}))), "pulumi:providers:kubernetes"
    )
    assert provider.props["clusterIdentifier"] == "prod" and provider.props["enableConfigMapMutable"] == "true"
    (named,) = by_type(
        records(lambda: Site("t", stack(kubernetes={"context": "prod", "cluster": "eu-1"}))),
        "pulumi:providers:kubernetes",
    )
    assert named.props["clusterIdentifier"] == "eu-1"


@pytest.mark.parametrize("how", ["provider", "providers", "parent"])
def test_a_provider_passed_by_the_caller_is_used(how):
    from llmkube_iac import Site

    def build():
        mine = k8s.Provider("mine", context="theirs")
        if how == "provider":
            Site("t", stack(), pulumi.ResourceOptions(provider=mine))
        elif how == "providers":  # what the component package receives from Construct
            Site("t", stack(), pulumi.ResourceOptions(providers={"kubernetes": mine}))
        else:
            holder = pulumi.ComponentResource("test:index:Holder", "h", None, pulumi.ResourceOptions(providers=[mine]))
            Site("t", stack(), pulumi.ResourceOptions(parent=holder))

    rs = records(build)
    (provider,) = by_type(rs, "pulumi:providers:kubernetes")
    assert provider.name == "mine"
    objects = [r for r in rs if r.manifest is not None]
    assert objects and all(r.provider.startswith(provider.urn) for r in objects)


def test_component_package_site_honours_construct_providers():
    spec = importlib.util.spec_from_file_location("llmkube_components", ROOT / "components" / "__main__.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    def build():
        mine = k8s.Provider("mine")
        module.Site(
            "t",
            {"site": stack()["site"], "models": stack()["models"], "services": stack()["services"]},
            pulumi.ResourceOptions(providers={"kubernetes": mine}),
        )

    assert [p.name for p in by_type(records(build), "pulumi:providers:kubernetes")] == ["mine"]


def test_namespaces_and_model_caches_are_protected():
    from llmkube_iac import Site

    rs = records(lambda: Site("t", stack(operators={"keda": True})))
    protected = sorted((r.props["kind"], r.props["metadata"]["name"]) for r in rs if r.protect)
    assert protected == [("Namespace", "keda"), ("Namespace", "llmkube"), ("PersistentVolumeClaim", "tiny-cache")]
    off = records(lambda: Site("t", stack(kubernetes={"protect": False})))
    assert not [r for r in off if r.protect]


def test_certificate_is_awaited_and_router_pods_wait_for_it():
    from llmkube_iac import Site

    cfg = stack(certIssuer="internal-ca", clusterProvides=["monitoring.coreos.com", "cert-manager.io"])
    cfg["routers"] = [
        {
            "name": "gw",
            "masterKeySecret": {"name": "k", "key": "m"},
            "backends": [{"name": "chat", "service": "chat"}],
            "modelGroups": [{"name": "chat", "backends": ["chat"]}],
        }
    ]
    rs = records(lambda: Site("t", cfg))
    cert = next(r for r in rs if r.props.get("kind") == "Certificate")
    assert cert.props["metadata"]["annotations"]["pulumi.com/waitFor"] == "condition=Ready"
    deploys = [r for r in rs if r.props.get("kind") == "Deployment" and r.parent.endswith("::t-gw")]
    assert deploys and all(cert.urn in d.dependencies for d in deploys)


# ---- logical names: a pure function of identity, so additions never rename ----------------------------

VENDORS = ("nvidia", "amd", "cpu")
PRIORITIES = ("critical", "high", "normal", "low", "batch")


@st.composite
def additions(draw):
    """A base stack and the same stack with more services, models, pools, operators and a router."""

    def service(i, model):
        vendor = draw(st.sampled_from(VENDORS))
        svc = {
            "name": f"svc-{i}",
            "model": model,
            "priority": draw(st.sampled_from(PRIORITIES)),
            "accelerator": {"vendor": vendor},
        }
        if draw(st.booleans()):
            svc["autoscaling"] = {"minReplicas": 1, "maxReplicas": 2}
        return svc

    n_base, n_more = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    models = [
        {"name": f"m-{i}", "source": f"hf://org/m{i}-GGUF/m{i}-Q4_K_M.gguf", "sizeGiB": 1}
        for i in range(n_base + n_more)
    ]
    services = [service(i, f"m-{draw(st.integers(0, i))}") for i in range(n_base + n_more)]
    pools = [{"name": v, "vendor": v, "memoryGiB": 80, "devicesPerNode": 8, "nodeCount": 4} for v in ("nvidia", "amd")]
    site = {
        "name": "s",
        "jurisdiction": "DE",
        "accelerators": pools,
        "clusterProvides": ["monitoring.coreos.com", "keda.sh", "cert-manager.io"],
    }
    base = {"site": site, "models": models[:n_base], "services": services[:n_base]}
    grown = copy.deepcopy({**base, "models": models, "services": services})
    grown["site"]["operators"] = {"gpuOperators": draw(st.booleans()), "keda": draw(st.booleans())}
    if draw(st.booleans()):
        grown["routers"] = [
            {
                "name": "gw",
                "masterKeySecret": {"name": "k", "key": "m"},
                "backends": [{"name": s["name"], "service": s["name"]} for s in services],
                "modelGroups": [{"name": "all", "backends": [s["name"] for s in services]}],
            }
        ]
    return base, grown


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(additions())
def test_additions_keep_every_earlier_urn(case):
    from llmkube_iac import Site

    base, grown = case
    before = {r.urn for r in records(lambda: Site("s", base))}
    after = {r.urn for r in records(lambda: Site("s", grown))}
    assert before <= after, sorted(before - after)
