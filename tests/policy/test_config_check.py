"""A policy-pack config is checked against every rule's own schema before any rule runs."""

from __future__ import annotations

import json

import pytest

from llmkube_iac.policy.config_check import check_policy_config
from tests.conftest import ROOT


@pytest.mark.parametrize("name", ["airgapped-edge", "datacenter-eu", "lab"])
def test_the_shipped_configs_are_valid(name):
    assert check_policy_config(json.loads((ROOT / "policy" / "config" / f"{name}.json").read_text())) == []


@pytest.mark.parametrize(
    "config, path, reason",
    [
        ([], "", "must be a JSON object"),
        ({"capcity": "advisory"}, "capcity", "unknown rule"),
        ({"capacity": 3}, "capacity", "neither an enforcement level"),
        ({"capacity": "strict"}, "capacity.enforcementLevel", "not one of advisory, mandatory, remediate, disabled"),
        ({"capacity": {"enforcementLevel": True}}, "capacity.enforcementLevel", "not one of"),
        ({"capacity": {"requireInventory": "yes"}}, "capacity.requireInventory", "is not boolean"),
        ({"capacity": {"requireInventry": False}}, "capacity.requireInventry", "unknown setting"),
        ({"gpu-fit": {"refuse": "marginal"}}, "gpu-fit.refuse", "is not array"),
        ({"gpu-fit": {"refuse": ["tight"]}}, "gpu-fit.refuse[0]", "not one of does-not-fit, marginal, unknown"),
        (
            {"data-residency": {"allowedJurisdictions": {"secret": ["DE"]}}},
            "data-residency.allowedJurisdictions.secret",
            "unknown property",
        ),
        (
            {"data-residency": {"allowedJurisdictions": {"public": "DE"}}},
            "data-residency.allowedJurisdictions.public",
            "is not array",
        ),
        (
            {"timeout-nesting": {"clientTimeoutSeconds": "60"}},
            "timeout-nesting.clientTimeoutSeconds",
            "is not number or null",
        ),
        ({"timeout-nesting": {"clientTimeoutSeconds": True}}, "timeout-nesting.clientTimeoutSeconds", "is not number"),
        ({"all": {"requireInventory": True}}, "all.requireInventory", "unknown setting"),
    ],
)
def test_wrong_shapes_are_refused_with_their_path(config, path, reason):
    problems = check_policy_config(config)
    assert any(p == path and reason in r for p, r in problems), problems


def test_levels_and_known_settings_pass():
    config = {
        "all": "advisory",
        "capacity": {"enforcementLevel": "mandatory", "requireInventory": False},
        "timeout-nesting": {"clientTimeoutSeconds": 60.5, "runtimeTimeouts": {"vllm": 30}},
    }
    assert check_policy_config(config) == []
