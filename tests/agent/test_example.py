"""examples/metal-edge renders offline: metal objects and the Router, all schema-valid."""

from __future__ import annotations

import json

import yaml

from llmkube_iac.render.engine import render_program
from llmkube_iac.spec.metal import DESIRED_STATE_KEY, DesiredState
from tests.conftest import ROOT
from tests.support.k8s_schema import validate_manifest


def test_metal_edge_example_renders_and_validates(tmp_path):
    result = render_program(ROOT / "examples" / "metal-edge", "edge", tmp_path, evaluate_policies=True)
    manifests = [yaml.safe_load(f.read_text()) for f in sorted(tmp_path.glob("*/1-manifest/*.yaml"))]
    assert manifests and len(manifests) == len(result.manifests)
    for m in manifests:
        validate_manifest(m)
    names = {(m["kind"], m["metadata"]["name"]) for m in manifests}
    assert {
        ("Service", "chat"),
        ("Deployment", "edge-gw"),
        ("Lease", "studio-1-metal-agent"),
        ("Lease", "studio-2-metal-agent"),
        ("ConfigMap", "studio-2-metal-desired"),
    } <= names
    assert not any(k == "Deployment" and n == "chat" for k, n in names)  # Macs serve it, not pods
    cm = next(m for m in manifests if m["metadata"]["name"] == "studio-1-metal-desired")
    state = DesiredState.model_validate(json.loads(cm["data"][DESIRED_STATE_KEY]))
    assert state.address == "10.20.0.11" and state.services[0].runtime == "llama-server"
    gw = next(m for m in manifests if m["kind"] == "NetworkPolicy" and m["metadata"]["name"] == "edge-gw")
    cidrs = {b["ipBlock"]["cidr"] for rule in gw["spec"]["egress"] for b in rule["to"] if "ipBlock" in b}
    assert cidrs == {"10.20.0.11/32", "10.20.0.12/32"}  # the router may reach exactly the two Macs
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert not [p for p in plan["policyResults"] if p["level"] == "mandatory"]
