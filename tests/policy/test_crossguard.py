"""The pack as the Pulumi engine runs it: `python policy/__main__.py` serves the analyzer gRPC API on
127.0.0.1; we speak that protocol (Analyze per resource, AnalyzeStack, Configure) with the same
plans and compare its verdicts with the in-process path. Plus levels, config and the table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy

from llmkube_iac.policy import RULES, evaluate, format_table, has_mandatory_violations
from llmkube_iac.policy.crossguard.pack import build_policies

from .fixtures import edge_config, resources_for
from .test_rules import CASES, _set, plan, svc

ROOT = Path(__file__).resolve().parents[2]
LEVEL = {0: "advisory", 1: "mandatory", 2: "disabled", 3: "remediate"}


@pytest.fixture(scope="module")
def analyzer():
    proc = subprocess.Popen(
        [sys.executable, "__main__.py"], cwd=ROOT / "policy", stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        port = int(proc.stdout.readline().strip() or 0)
        assert port, f"the pack did not start: {proc.stderr.read() if proc.poll() is not None else ''}"
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(channel).result(timeout=30)
        yield analyzer_pb2_grpc.AnalyzerStub(channel)
        channel.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _struct(props) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(props)
    return s


def _via_grpc(stub, resources, config: dict | None = None) -> list[tuple[str, str, str]]:
    """(rule, level, message) for every diagnostic, like the CLI collects them."""
    policy_config = {}
    for name in {r.name for r in RULES}:
        entry = dict((config or {}).get(name) or {})
        level = entry.pop("enforcementLevel", None) or next(r.level for r in RULES if r.name == name)
        policy_config[name] = analyzer_pb2.PolicyConfig(
            enforcementLevel=getattr(analyzer_pb2, level.upper()), properties=_struct(entry)
        )
    stub.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig=policy_config))
    out = []
    for r in resources:
        resp = stub.Analyze(
            analyzer_pb2.AnalyzeRequest(type=r.type, properties=_struct(r.props), urn=r.urn, name=r.name)
        )
        out += [(d.policyName, LEVEL[d.enforcementLevel], d.message) for d in resp.diagnostics]
        assert all(d.urn in ("", r.urn) for d in resp.diagnostics)
    stack = [
        analyzer_pb2.AnalyzerResource(
            type=r.type, properties=_struct(r.props), urn=r.urn, name=r.name, parent=r.parent or ""
        )
        for r in resources
    ]
    resp = stub.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=stack))
    out += [(d.policyName, LEVEL[d.enforcementLevel], d.message) for d in resp.diagnostics]
    # the analyzer prefixes each message with the policy's description, as the CLI prints it
    return sorted((n, lvl, m.split("\n", 1)[1] if "\n" in m else m) for n, lvl, m in out)


def test_pack_declares_every_rule_with_metadata(analyzer):
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    declared = {p.name: p for p in info.policies}
    assert set(declared) == {r.name for r in RULES} and len(RULES) >= 11
    for rule in RULES:
        p = declared[rule.name]
        assert p.description == rule.description and p.remediation_steps == rule.remediation
        assert LEVEL[p.enforcementLevel] == rule.level
        assert set(json_format.MessageToDict(p.configSchema.properties)) == set(rule.config)


@pytest.mark.parametrize("rule", sorted(CASES))
def test_engine_protocol_and_in_process_agree_rule_by_rule(analyzer, rule):
    passing, violating = CASES[rule]
    for label, resources in passing + violating:
        offline = sorted((r.rule, r.level, r.message) for r in evaluate(resources, {"image-pinning": "advisory"}))
        served = _via_grpc(analyzer, resources, {"image-pinning": {"enforcementLevel": "advisory"}})
        assert served == offline, f"{rule}/{label}"
        assert any(x[0] == rule for x in offline) == (any(v[0] == label for v in violating)), f"{rule}/{label}"


def test_policy_objects_match_rules():
    policies = build_policies()
    assert [p.name for p in policies] == [r.name for r in RULES]
    for p, r in zip(policies, RULES, strict=True):
        assert isinstance(p, ResourceValidationPolicy if r.scope == "resource" else StackValidationPolicy)
        assert p.enforcement_level == EnforcementLevel(r.level) and p.remediation_steps == r.remediation


def test_image_pinning_is_advisory_by_default_and_mandatory_in_air_gapped_sites():
    tag = lambda c: _set(svc(c), image="registry.edge.internal/ghcr/ggml-org/llama.cpp:b1")  # noqa: E731
    gapped = [r.level for r in evaluate(plan(tag)) if r.rule == "image-pinning"]
    open_site = [
        r.level
        for r in evaluate(plan(lambda c: (tag(c), _set(c["site"], airGapped=False))))
        if r.rule == "image-pinning"
    ]
    assert gapped and set(gapped) == {"mandatory"}
    assert open_site and set(open_site) == {"advisory"}
    production = [
        r.level
        for r in evaluate(plan(lambda c: (tag(c), _set(c["site"], airGapped=False, production=True))))
        if r.rule == "image-pinning"
    ]
    assert production and set(production) == {"mandatory"}


def test_config_overrides_levels_and_rule_settings():
    rs = plan(lambda c: _set(c["site"], jurisdiction="US"))
    assert has_mandatory_violations(evaluate(rs))
    assert not [r for r in evaluate(rs, {"data-residency": "disabled"}) if r.rule == "data-residency"]
    advisory = evaluate(rs, {"data-residency": {"enforcementLevel": "advisory"}})
    assert advisory and not has_mandatory_violations(advisory)
    assert not evaluate(rs, {"data-residency": {"allowedJurisdictions": {"confidential": ["US"]}}})
    with pytest.raises(ValueError, match="unknown rule 'data-residencyy'"):
        evaluate(rs, {"data-residencyy": "advisory"})
    with pytest.raises(ValueError, match="enforcementLevel"):
        evaluate(rs, {"data-residency": "blocking"})


def test_format_table_has_every_column():
    results = evaluate(plan(lambda c: _set(c["site"], jurisdiction="US")))
    table = format_table(results)
    header = table.splitlines()[0]
    for column in ("RULE", "LEVEL", "RESOURCE", "MESSAGE"):
        assert column in header
    assert "data-residency" in table and "mandatory" in table and "fix: " in table
    assert "InferenceService edge-chat" in table
    assert format_table([]) == "policy: no violations"


def test_clean_fixture_is_clean_under_every_shipped_site_config():
    import json

    for path in sorted((ROOT / "policy" / "config").glob("*.json")):
        config = json.loads(path.read_text())
        assert not has_mandatory_violations(evaluate(resources_for(edge_config()), config)), path.name


def test_stack_rules_fail_closed_when_the_site_spec_is_not_visible():
    """What a stack policy sees under `pulumi preview` if components export no `spec`: it refuses."""
    rs = resources_for(edge_config())
    for r in rs:
        if r.type.startswith("llmkube:index:"):
            r.props = {"namespace": "llmkube"}  # outputs instead of inputs
    results = evaluate(rs)
    stack_rules = {r.name for r in RULES if r.scope == "stack"}
    blind = {r.rule for r in results if "cannot judge this plan" in r.message}
    assert blind == stack_rules
    assert has_mandatory_violations(results)


def _keda_operator(urn: str):
    """An object as a chart renders it (KEDA's operator mounts its token: not restricted-compliant)."""
    from llmkube_iac.render.resources import RenderedResource

    m = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "keda-operator", "namespace": "keda"},
        "spec": {
            "template": {
                "spec": {
                    "automountServiceAccountToken": True,
                    "containers": [{"name": "keda-operator", "image": "ghcr.io/kedacore/keda:2.17.2"}],
                }
            }
        },
    }
    return RenderedResource(urn, "kubernetes:apps/v1:Deployment", urn.rsplit("::", 1)[1], m)


CHART_CHILD = (
    "urn:pulumi:test::fixture::llmkube:index:Site$llmkube:index:AddOn$kubernetes:helm.sh/v4:Chart"
    "$kubernetes:apps/v1:Deployment::edge-keda-keda/keda-operator"
)
AUTHORED = "urn:pulumi:test::fixture::llmkube:index:Site$kubernetes:apps/v1:Deployment::edge-deployment-keda-operator"


def test_objects_rendered_by_a_chart_are_out_of_scope_under_both_engines(analyzer):
    """Scope: rules judge what this library authors; a chart's objects are judged through its add-on."""
    clean = resources_for(edge_config())
    for urn, expect in ((CHART_CHILD, False), (AUTHORED, True)):
        rs = clean + [_keda_operator(urn)]
        offline = sorted((r.rule, r.level, r.message) for r in evaluate(rs, {"image-pinning": "advisory"}))
        served = _via_grpc(analyzer, rs, {"image-pinning": {"enforcementLevel": "advisory"}})
        assert served == offline
        fired = {rule for rule, _, message in offline if "keda-operator" in message}
        assert fired == ({"security-baseline", "airgap-images", "image-pinning"} if expect else set()), fired


def test_rendered_by_chart_reads_the_urn_type_chain():
    from llmkube_iac.policy.base import rendered_by_chart

    assert rendered_by_chart(CHART_CHILD)
    assert not rendered_by_chart(AUTHORED)
    assert not rendered_by_chart("urn:pulumi:s::p::llmkube:index:AddOn$kubernetes:helm.sh/v4:Chart::dc-keda")
    assert not rendered_by_chart("not-a-urn")


def test_pack_requirements_survive_publish():
    """`pulumi policy publish` uploads only policy/: no path outside it, llmkube-iac from the wheel the
    publish script puts next to the requirements file, pinned to this version; the pulumi-policy floor
    covers what the pack uses (Policy tags / remediation_steps arrived in 1.18)."""
    import tomllib

    lines = [
        ln.strip()
        for ln in (ROOT / "policy" / "requirements.txt").read_text().splitlines()
        if ln.strip() and not ln.startswith("#")
    ]
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert lines == ["pulumi-policy>=1.18,<2", "--find-links wheels", f"llmkube-iac=={version}"]
    assert not any(".." in ln or ln.startswith("-e") for ln in lines)
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert "pulumi-policy>=1.18,<2" in deps
    script = (ROOT / "scripts" / "publish-policy-pack").read_text()
    assert "pip wheel" in script and '--wheel-dir "$root/policy/wheels"' in script and "policy publish" in script
