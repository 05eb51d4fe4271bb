"""docs/configuration.md is generated from the spec models and must match them."""

from __future__ import annotations

import re

from llmkube_iac.cli import main
from llmkube_iac.render.config_docs import (
    REGENERATE,
    _markdown,
    configuration_markdown,
    desired_state_schema,
    fleet_schema,
    stack_schema,
)
from tests.conftest import ROOT

DOC = ROOT / "docs" / "configuration.md"


def test_committed_reference_is_current():
    assert DOC.is_file(), f"docs/configuration.md is missing; generate it: {REGENERATE}"
    assert DOC.read_text(encoding="utf-8") == configuration_markdown(), (
        f"docs/configuration.md is stale (a spec field, default or description changed); regenerate it: {REGENERATE}"
    )


def test_generation_is_deterministic():
    assert configuration_markdown() == configuration_markdown()


def test_cli_prints_the_reference(capsys):
    assert main(["schema", "--markdown"]) == 0
    assert capsys.readouterr().out == configuration_markdown()


def test_every_key_of_every_section_has_a_row():
    text = configuration_markdown()
    rows = re.findall(r"^\| `[^`]+` \|", text, flags=re.M)
    expected = 0
    for schema in (stack_schema(), desired_state_schema(), fleet_schema()):
        expected += len(schema["properties"]) + sum(len(d.get("properties", {})) for d in schema["$defs"].values())
    assert len(rows) == expected


def test_every_link_lands_on_an_anchor():
    text = configuration_markdown()
    anchors = set(re.findall(r'<a id="([^"]+)"></a>', text))
    anchors |= {"the-stack", "appendix-the-metal-agents-desired-state"}
    targets = set(re.findall(r"\]\(#([^)]+)\)", text))
    assert targets and targets <= anchors, targets - anchors


def test_enums_defaults_and_constraints_are_shown():
    text = configuration_markdown()
    assert "| `classification` | one of `public`, `internal`, `confidential`, `restricted` | `restricted` |" in text
    assert "| `parallelSlots` | integer (≥ 1, ≤ 1024) | `1` |" in text
    assert "| `jurisdiction` | string | required |" in text


def test_prose_is_literal_markdown():
    assert (
        _markdown("ConfigMap <host>-metal-desired, `<kept>`, airgap-* rules")
        == "ConfigMap &lt;host&gt;-metal-desired, `<kept>`, airgap-\\* rules"
    )
