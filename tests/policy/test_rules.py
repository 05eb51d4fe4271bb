"""Every rule: at least one passing and two violating fixtures, built from the real planners.

Each case is checked through `evaluate` (the pack's pulumi_policy objects, in-process) and, rule by
rule, against the pure rule function itself: both paths must report the very same messages."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil

import pytest

import llmkube_iac.policy.rules as rules_package
from llmkube_iac.components.addon import ADDON_TYPE
from llmkube_iac.policy import RULES, RULES_BY_NAME, evaluate
from llmkube_iac.policy.base import Res
from llmkube_iac.policy.view import StackView

from .fixtures import edge_config, find, resources_for

FIT = importlib.util.find_spec("llmkube_iac.modelinfo.fit") is not None
PYRRA = {"monitoring": True, "pyrra": True}
ROUTER = {
    "name": "gw",
    "backends": [{"name": "chat", "service": "chat"}],
    "modelGroups": [{"name": "chat", "backends": ["chat"]}],
    "masterKeySecret": {"name": "gw-keys", "key": "master"},
}


def cfg_with(mutate):
    c = edge_config()
    mutate(c)
    return c


def svc(c, name="chat"):
    return next(s for s in c["services"] if s["name"] == name)


def plan(mutate=lambda c: None, objects=lambda rs: None):
    """Resources of the edge config after a config mutation and an object mutation."""
    rs = resources_for(cfg_with(mutate))
    objects(rs)
    return rs


def pod(rs, name="chat"):
    return find(rs, "Deployment", name)["spec"]["template"]["spec"]


def _kueue_teams(c, quota_pool: str):
    """Kueue provided by the cluster, pools l4 and a10 labelled apart, team search's quota on one of them and the
    chat service (placed on l4, the first pool that matches it) naming the team."""
    c["site"]["clusterProvides"] = ["kueue.x-k8s.io"]
    c["site"]["accelerators"][0]["nodeLabels"] = {"llmkube.dev/pool": "l4"}
    c["site"]["accelerators"].append(
        {
            "name": "a10",
            "vendor": "nvidia",
            "devicesPerNode": 1,
            "nodeCount": 2,
            "nodeLabels": {"llmkube.dev/pool": "a10"},
        }
    )
    c["teams"] = [
        {"name": "search", "borrowing": False, "devices": [{"vendor": "nvidia", "pool": quota_pool, "count": 2}]}
    ]
    svc(c)["team"] = "search"


def _set(obj, **kv):
    obj.update(kv)


def _configmap(value: str):
    from llmkube_iac.render.resources import RenderedResource

    m = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "leak", "namespace": "llmkube", "labels": {"llmkube.dev/site": "edge"}},
        "data": {"settings.env": f"HF_TOKEN={value}\n"},
    }
    return RenderedResource(
        "urn:pulumi:test::fixture::kubernetes:core/v1:ConfigMap::leak", "kubernetes:core/v1:ConfigMap", "leak", m
    )


def _undeclared_chart(rs):
    """A helm.v4.Chart outside any AddOn: under the engine it records no reference, so it cannot pass."""
    from llmkube_iac.render.resources import RenderedResource

    site = next(r for r in rs if r.type == "llmkube:index:Site")
    t = "kubernetes:helm.sh/v4:Chart"
    rs.append(
        RenderedResource(
            f"urn:pulumi:test::fixture::{t}::extra",
            t,
            "extra",
            {"chart": "oci://registry.edge.internal/charts/extra"},
            site.urn,
            custom=False,
            remote=True,
        )
    )


def _tgi_and_sglang_with_slos(c):
    """A TGI and an SGLang service asking for the default objectives (their runtimes export the series)."""
    _set(c["site"], addons=PYRRA)
    c["models"].append(
        {"name": "st", "source": "pvc://model-store/qwen3-8b", "format": "safetensors", "totalParametersB": 8}
    )
    for name, rt in (("tgi", "tgi"), ("sgl", "sglang")):
        c["services"].append(
            {"name": name, "model": "st", "runtime": rt, "accelerator": {"vendor": "nvidia", "count": 1}, "slo": {}}
        )


CASES = {
    "airgap-images": (
        [("clean", plan())],
        [
            ("service image from quay.io", plan(lambda c: _set(svc(c), image="quay.io/x/llama:1@sha256:" + "b" * 64))),
            (
                "init container from docker.io",
                plan(objects=lambda rs: _set(pod(rs)["initContainers"][0], image="docker.io/library/busybox:1.36")),
            ),
            (
                "add-on image values from an unmirrored registry",
                plan(lambda c: c["site"]["registryMirrors"].pop()),
            ),  # NFD's registry.k8s.io
            (
                "add-on whose image values are unknown",
                plan(
                    lambda c: c["site"]["accelerators"].append(
                        {
                            "name": "gaudi",
                            "vendor": "intel-gaudi",
                            "memoryGiB": 128,
                            "devicesPerNode": 8,
                            "nodeCount": 1,
                        }
                    )
                ),
            ),
        ],
    ),
    "airgap-model-sources": (
        [
            ("clean", plan()),
            (
                "hf through the internal mirror",
                plan(
                    lambda c: (
                        _set(c["site"], hfEndpoint="https://hf.edge.internal"),
                        _set(c["models"][0], source="hf://Qwen/Q-GGUF/q.gguf"),
                    )
                ),
            ),
        ],
        [
            ("hf without mirror", plan(lambda c: _set(c["models"][0], source="hf://Qwen/Q-GGUF/q.gguf"))),
            (
                "https on an outside host",
                plan(lambda c: _set(c["models"][0], source="https://huggingface.co/q/q.gguf")),
            ),
            (
                "hfEndpoint is the public hub",
                plan(
                    lambda c: (
                        _set(c["site"], hfEndpoint="https://huggingface.co"),
                        _set(c["models"][0], source="hf://Qwen/Q-GGUF/q.gguf"),
                    )
                ),
            ),
        ],
    ),
    "model-revision-pinning": (
        [
            ("no hf sources", plan()),
            (
                "hf source at a commit",
                plan(
                    lambda c: (
                        _set(c["site"], hfEndpoint="https://hf.edge.internal"),
                        _set(c["models"][0], source=f"hf://Qwen/Q-GGUF@{'c' * 40}/q.gguf"),
                    )
                ),
            ),
            (
                "branch at a connected site",
                plan(
                    lambda c: (
                        _set(c["site"], airGapped=False),
                        _set(c["models"][0], source="hf://Qwen/Q-GGUF@main/q.gguf"),
                    )
                ),
            ),
        ],
        [
            (
                "branch main through the mirror",
                plan(
                    lambda c: (
                        _set(c["site"], hfEndpoint="https://hf.edge.internal"),
                        _set(c["models"][0], source="hf://Qwen/Q-GGUF@main/q.gguf"),
                    )
                ),
            ),
            (
                "no revision in an inline service model",
                plan(
                    lambda c: (
                        _set(c["site"], hfEndpoint="https://hf.edge.internal"),
                        _set(
                            svc(c, "embed"),
                            model={
                                "name": "embed-inline",
                                "source": "hf://Qwen/E-GGUF/e.gguf",
                                "format": "gguf",
                                "sizeGiB": 0.6,
                            },
                        ),
                    )
                ),
            ),
        ],
    ),
    "airgap-charts": (
        [("clean", plan())],
        [
            ("no chart registry", plan(lambda c: c["site"]["operators"].pop("chartRegistry"))),
            (
                "oci chart on an outside registry",
                plan(
                    objects=lambda rs: next(r for r in rs if r.type == ADDON_TYPE).props.update(
                        chart="oci://ghcr.io/nvidia/gpu-operator"
                    )
                ),
            ),
            ("a chart not declared as an add-on", plan(objects=_undeclared_chart)),
        ],
    ),
    "airgap-egress": (
        [("clean", plan())],
        [
            (
                "default-deny removed",
                plan(
                    objects=lambda rs: rs.remove(
                        next(
                            r
                            for r in rs
                            if r.props.get("kind") == "NetworkPolicy"
                            and r.props["metadata"]["name"] == "default-deny-egress"
                        )
                    )
                ),
            ),
            (
                "allow-all rule",
                plan(objects=lambda rs: find(rs, "NetworkPolicy", "default-deny-egress")["spec"]["egress"].append({})),
            ),
            (
                "0.0.0.0/0 allowed",
                plan(
                    objects=lambda rs: find(rs, "NetworkPolicy", "default-deny-egress")["spec"]["egress"].append(
                        {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}
                    )
                ),
            ),
        ],
    ),
    "data-residency": (
        [
            ("clean", plan()),
            (
                "public service abroad",
                plan(
                    lambda c: (
                        _set(c["site"], jurisdiction="US"),
                        [_set(s, classification="public") for s in c["services"]],
                    )
                ),
            ),
        ],
        [
            ("confidential in the US", plan(lambda c: _set(c["site"], jurisdiction="US"))),
            (
                "restricted in Switzerland",
                plan(
                    lambda c: (_set(c["site"], jurisdiction="CH"), _set(svc(c, "embed"), classification="restricted"))
                ),
            ),
            (
                "router sends confidential data to an external provider",
                plan(
                    lambda c: (
                        _set(c["site"], airGapped=False),
                        c.setdefault("routers", []).append(
                            {
                                **ROUTER,
                                "backends": ROUTER["backends"]
                                + [
                                    {
                                        "name": "openai",
                                        "provider": "openai",
                                        "model": "gpt-4o-mini",
                                        "region": "us-east-1",
                                        "jurisdiction": "US",
                                        "apiKeySecret": {"name": "gw-keys", "key": "openai"},
                                        "maxClassification": "confidential",
                                    }
                                ],
                            }
                        ),
                    )
                ),
            ),
        ],
    ),
    "capacity": (
        [
            ("clean", plan()),
            (
                "teams within the inventory and their quotas",
                plan(
                    lambda c: (
                        c.update(
                            teams=[
                                {"name": "search", "devices": [{"vendor": "nvidia", "pool": "l4", "count": 2}]},
                                {"name": "ops", "devices": [{"vendor": "nvidia", "count": 1}]},
                            ]
                        ),
                        _set(svc(c), team="search"),
                        _set(svc(c, "embed"), team="ops"),
                    )
                ),
            ),
            (
                "Kueue admits a team's service on its quota pool",
                plan(lambda c: _kueue_teams(c, quota_pool="l4")),
            ),
        ],
        [
            ("maxReplicas beyond the pool", plan(lambda c: _set(svc(c)["autoscaling"], maxReplicas=5))),
            (
                "two services overbook the pool",
                plan(lambda c: (_set(svc(c)["autoscaling"], maxReplicas=3), _set(svc(c, "embed"), replicas=2))),
            ),
            (
                "no pool of the vendor",
                plan(
                    lambda c: _set(
                        c["site"],
                        accelerators=[
                            {"name": "mi", "vendor": "amd", "memoryGiB": 192, "devicesPerNode": 8, "nodeCount": 1}
                        ],
                    )
                ),
            ),
            (
                "team quotas beyond the inventory",
                plan(
                    lambda c: c.update(
                        teams=[
                            {"name": "search", "devices": [{"vendor": "nvidia", "count": 2}]},
                            {"name": "ops", "devices": [{"vendor": "nvidia", "pool": "l4", "count": 2}]},
                        ]
                    )
                ),
            ),
            (
                "a team's services beyond its quota",
                plan(
                    lambda c: (
                        c.update(
                            teams=[
                                {"name": "search", "borrowing": False, "devices": [{"vendor": "nvidia", "count": 1}]}
                            ]
                        ),
                        _set(svc(c), team="search"),
                    )
                ),
            ),
            (
                "Kueue could never admit a team's service: its quota is on another pool",
                plan(lambda c: _kueue_teams(c, quota_pool="a10")),
            ),
        ],
    ),
    "slo-metrics": (
        [
            ("clean", plan()),
            (
                "SLO switched off on llama.cpp",
                plan(lambda c: (_set(c["site"], addons=PYRRA), _set(svc(c), slo={"enabled": False}))),
            ),
            ("SLOs on TGI and SGLang", plan(_tgi_and_sglang_with_slos)),
        ],
        [
            ("availability SLO on llama.cpp", plan(lambda c: (_set(c["site"], addons=PYRRA), _set(svc(c), slo={})))),
            (
                "availability-only SLO on llama.cpp",
                plan(lambda c: (_set(c["site"], addons=PYRRA), _set(svc(c, "embed"), slo={"latency": None}))),
            ),
        ],
    ),
    "security-baseline": (
        [
            ("clean", plan()),
            (
                "declared multi-GPU host access",
                plan(
                    lambda c: (
                        _set(svc(c)["accelerator"], count=2),
                        _set(c["site"]["accelerators"][0], devicesPerNode=2),
                        _set(svc(c)["autoscaling"], maxReplicas=1),
                    ),
                    lambda rs: (
                        _set(pod(rs), hostIPC=True),
                        find(rs, "Deployment", "chat")["metadata"]
                        .setdefault("annotations", {})
                        .update({"llmkube.dev/host-access": "multi-gpu"}),
                    ),
                ),
            ),
        ],
        [
            (
                "privileged container",
                plan(objects=lambda rs: _set(pod(rs)["containers"][0]["securityContext"], privileged=True)),
            ),
            ("hostNetwork", plan(objects=lambda rs: _set(pod(rs), hostNetwork=True))),
            ("token automount", plan(objects=lambda rs: pod(rs).pop("automountServiceAccountToken"))),
            (
                "hostPath without a declared need",
                plan(objects=lambda rs: pod(rs)["volumes"].append({"name": "dev", "hostPath": {"path": "/dev"}})),
            ),
        ],
    ),
    "image-pinning": (
        [("clean", plan())],
        [
            (
                "service image by tag",
                plan(lambda c: _set(svc(c), image="registry.edge.internal/ghcr/ggml-org/llama.cpp:b1")),
            ),
            ("tools image by tag", plan(lambda c: _set(c["site"], toolsImage="registry.edge.internal/ghcr/t:1"))),
        ],
    ),
    "secrets-hygiene": (
        [
            ("clean", plan()),
            (
                "key from a Secret",
                plan(
                    objects=lambda rs: pod(rs)["containers"][0]["env"].append(
                        {"name": "API_KEY", "valueFrom": {"secretKeyRef": {"name": "k", "key": "v"}}}
                    )
                ),
            ),
        ],
        [
            (
                "literal API key in env",
                plan(lambda c: _set(svc(c), env={"OPENAI_API_KEY": "sk-proj-" + "A1b2C3d4" * 4})),
            ),
            ("--api-key literal argument", plan(lambda c: _set(svc(c), extraArgs=["--api-key", "hunter2-prod-key"]))),
            ("HF token in a ConfigMap", plan(objects=lambda rs: rs.append(_configmap("hf_" + "x" * 34)))),
        ],
    ),
    "router-tls": (
        [
            ("no router", plan()),
            (
                "router at a site with a certificate issuer",
                plan(lambda c: (_set(c["site"], certIssuer="edge-ca"), c.setdefault("routers", []).append(ROUTER))),
            ),
        ],
        [
            ("router without an issuer", plan(lambda c: c.setdefault("routers", []).append(ROUTER))),
            (
                "two routers without an issuer",
                plan(lambda c: c.setdefault("routers", []).extend([ROUTER, {**ROUTER, "name": "gw2"}])),
            ),
        ],
    ),
    "timeout-nesting": (
        [
            (
                "router above the runtime bound",
                plan(
                    lambda c: (
                        _set(c["site"], airGapped=False),
                        _set(svc(c), extraArgs=["--timeout", "300"]),
                        c.setdefault("routers", []).append(ROUTER),
                    )
                ),
            )
        ],
        [
            (
                "runtime bound above the router",
                plan(
                    lambda c: (
                        _set(c["site"], airGapped=False),
                        _set(svc(c), extraArgs=["--timeout", "900"]),
                        c.setdefault("routers", []).append(ROUTER),
                    )
                ),
            ),
            (
                "stream timeout below the runtime",
                plan(
                    lambda c: (
                        _set(c["site"], airGapped=False),
                        _set(svc(c), extraArgs=["--timeout=700"]),
                        c.setdefault("routers", []).append(
                            {**ROUTER, "timeouts": {"requestSeconds": 800, "streamSeconds": 600}}
                        ),
                    )
                ),
            ),
        ],
    ),
}
if FIT:
    CASES["gpu-fit"] = (
        [("clean", plan())],
        [
            (
                "235B on one L4",
                plan(
                    lambda c: _set(
                        c["models"][0], totalParametersB=235, activeParametersB=22, architecture="MoE", sizeGiB=133
                    )
                ),
            ),
            ("70B dense on one L4", plan(lambda c: _set(c["models"][0], totalParametersB=70, sizeGiB=40))),
            (
                "35B FP8 MoE on vLLM on one L4",
                plan(
                    lambda c: (
                        _set(c["site"], airGapped=False),
                        _set(
                            c["models"][0],
                            source="hf://Qwen/Qwen3.6-35B-A3B-FP8",
                            format="safetensors",
                            quantization="FP8",
                            architecture="MoEThinking",
                            totalParametersB=35,
                            activeParametersB=3,
                            sizeGiB=None,
                        ),
                        c["models"][0].pop("sizeGiB"),
                        _set(svc(c), runtime="vllm", contextSize=65536),
                    )
                ),
            ),
            (
                "unjudged fit at an air-gapped site",
                plan(lambda c: _set(c["models"][0], source="https://models.edge.internal/q/Mystery-7B-Q4_K_M.gguf")),
            ),
            (
                "unknown product",
                plan(
                    lambda c: (
                        _set(c["site"]["accelerators"][0], product="NVIDIA Q9000", memoryGiB=None),
                        c["site"]["accelerators"][0].pop("memoryGiB"),
                    )
                ),
            ),
        ],
    )

    CASES["gpu-fit-unknown"] = (
        [
            ("catalog facts for both models", plan()),
            (
                "air-gapped: gpu-fit refuses instead",
                plan(lambda c: _set(c["models"][0], source=("https://models.edge.internal/q/Mystery-7B-Q4_K_M.gguf"))),
            ),
        ],
        [
            (
                "model the catalog does not know",
                plan(
                    lambda c: (
                        _set(c["site"], airGapped=False),
                        _set(c["models"][0], source="https://models.edge.internal/q/Mystery-7B-Q4_K_M.gguf"),
                    )
                ),
            ),
            (
                "no device memory known",
                plan(
                    lambda c: (
                        _set(c["site"], airGapped=False),
                        _set(c["site"]["accelerators"][0], product=None, memoryGiB=None),
                        c["site"]["accelerators"][0].pop("product"),
                        c["site"]["accelerators"][0].pop("memoryGiB"),
                    )
                ),
            ),
        ],
    )


def _params():
    for rule, (passing, violating) in CASES.items():
        for label, rs in passing:
            yield pytest.param(rule, rs, False, id=f"{rule}-pass-{label}")
        for label, rs in violating:
            yield pytest.param(rule, rs, True, id=f"{rule}-violate-{label}")


def test_every_rule_has_one_passing_and_two_violating_fixtures():
    expected = set(RULES_BY_NAME) - (set() if FIT else {"gpu-fit"})
    assert set(CASES) == expected
    for rule, (passing, violating) in CASES.items():
        assert len(passing) >= 1 and len(violating) >= 2, rule


def _pure(rule_name: str, resources, config: dict | None = None) -> list[str]:
    rule = RULES_BY_NAME[rule_name]
    views = [Res(r.urn, r.type, r.name, r.props, r.parent) for r in resources]
    settings = rule.settings((config or {}).get(rule_name))
    if rule.scope == "resource":
        return [m for r in views for m in rule.check(r, settings)]
    return [v.message for v in rule.check(StackView(views), settings)]


@pytest.mark.parametrize("rule,resources,violates", list(_params()))
def test_rule_fixture(rule, resources, violates):
    results = [r for r in evaluate(resources) if r.rule == rule]
    assert bool(results) == violates, [r.message for r in results]
    # the pack's pulumi_policy object and the pure rule say exactly the same thing
    assert [r.message for r in results] == _pure(rule, resources)
    for r in results:
        assert r.remediation == RULES_BY_NAME[rule].remediation and r.message


def test_kueue_admission_is_judged_only_where_kueue_runs():
    """Without Kueue nothing admits the pods by pool: the quota is counted per vendor, as before."""

    def without_kueue(c):
        _kueue_teams(c, quota_pool="a10")
        del c["site"]["clusterProvides"]

    assert not [p for p in evaluate(plan(without_kueue)) if p.rule == "capacity"]
    (hit,) = [p for p in evaluate(plan(lambda c: _kueue_teams(c, quota_pool="a10"))) if p.rule == "capacity"]
    assert "placed on pool l4" in hit.message and "quota (a10)" in hit.message and "chat" in hit.resource_name


def test_violations_name_their_resource():
    rs = plan(objects=lambda rs: _set(pod(rs)["containers"][0]["securityContext"], privileged=True))
    (hit,) = [r for r in evaluate(rs) if r.rule == "security-baseline"]
    assert hit.resource_type == "kubernetes:apps/v1:Deployment" and "chat" in hit.resource_name
    assert "privileged" in hit.message and "Deployment llmkube/chat" in hit.message


def test_each_rule_lives_in_a_module_named_after_it():
    """rules/<rule_name>.py exports that rule as RULE, and every module there is a registered rule."""
    modules = {info.name for info in pkgutil.iter_modules(rules_package.__path__)}
    assert modules == {r.name.replace("-", "_") for r in RULES}
    for rule in RULES:
        assert importlib.import_module(f"llmkube_iac.policy.rules.{rule.name.replace('-', '_')}").RULE is rule
    assert len(RULES_BY_NAME) == len(RULES)


def test_revision_pinning_names_why_the_source_stayed_unpinned():
    """The reason recorded on the Model component (modelinfo.revisions) is in the message; a record
    claiming a commit does not help a source that is not at it (the source is what gets fetched)."""

    def unpinned(rs):
        model = next(r for r in rs if r.type == "llmkube:index:Model" and "chat-9b" in r.name)
        model.props["revision"] = {
            "source": "hf://Qwen/Q-GGUF/q.gguf",
            "requested": "main",
            "unpinned_reason": "the mirror lookup failed: HTTP 404 (RevisionNotFound)",
        }

    rs = plan(
        lambda c: (
            _set(c["site"], hfEndpoint="https://hf.edge.internal"),
            _set(c["models"][0], source="hf://Qwen/Q-GGUF/q.gguf"),
        ),
        unpinned,
    )
    (hit,) = [r for r in evaluate(rs) if r.rule == "model-revision-pinning"]
    assert "RevisionNotFound" in hit.message and "main (none written)" in hit.message
    assert hit.level == "mandatory" and "chat-9b" in hit.resource_name
    on_all = evaluate(
        plan(lambda c: (_set(c["site"], airGapped=False), _set(c["models"][0], source="hf://Qwen/Q-GGUF/q.gguf"))),
        {"model-revision-pinning": {"allSites": True}},
    )
    assert [r.rule for r in on_all if r.rule == "model-revision-pinning"] == ["model-revision-pinning"]
