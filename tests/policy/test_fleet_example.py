"""examples/fleet: every stack passes every rule; mutated, placement refuses what only a foreign site
could host (exit 2, naming each site's reason), and a stack cannot set its own site."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from llmkube_iac.cli import main
from llmkube_iac.policy import has_mandatory_violations
from llmkube_iac.render.engine import render_program

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fleet"
STACKS = ("dc", "edge-l4", "edge-metal", "all")


@pytest.mark.parametrize("stack", STACKS)
def test_every_fleet_stack_passes(stack):
    result = render_program(EXAMPLE, stack)
    assert not has_mandatory_violations(result.policy_results), result.policy_results


def test_each_stack_applies_only_its_share():
    placed = {}
    for stack in ("dc", "edge-l4", "edge-metal"):
        result = render_program(EXAMPLE, stack, evaluate_policies=False)
        services = {r.props["site"]: [] for r in result.resources if r.type == "llmkube:index:InferenceService"}
        for r in result.resources:
            if r.type == "llmkube:index:InferenceService":
                services[r.props["site"]].append(r.props["spec"]["name"])
        assert set(services) == {stack}
        placed[stack] = sorted(services[stack])
        record = next(r for r in result.resources if r.type == "llmkube:index:Placement")
        assert {p["service"]: p["site"] for p in record.props["placements"]}[placed[stack][0]] == stack
    assert placed == {
        "dc": ["chat-general", "chat-large"],
        "edge-l4": ["chat-confidential"],
        "edge-metal": ["assistant"],
    }


def _mutated(tmp_path: Path, change) -> Path:
    dest = tmp_path / "fleet"
    shutil.copytree(EXAMPLE, dest)
    fleet = yaml.safe_load((dest / "fleet.yaml").read_text())
    change(fleet)
    (dest / "fleet.yaml").write_text(yaml.safe_dump(fleet))
    return dest


def test_a_confidential_service_only_a_foreign_site_could_host_is_refused(tmp_path, capsys):
    def confidential_on_macs(fleet):
        svc = next(s for s in fleet["services"] if s["name"] == "assistant")
        svc["classification"] = "confidential"  # only the Swiss site has Macs; CH is outside the EU/EEA

    dest = _mutated(tmp_path, confidential_on_macs)
    for stack in STACKS:  # every site's stack refuses the fleet, not only the one that would have hosted it
        assert main(["check", str(dest), "--stack", stack]) == 2
    err = capsys.readouterr().err
    assert "fleet.services[3]: fleet service assistant cannot be placed on any site" in err
    assert "edge-metal: data residency: confidential data may not be processed in CH" in err
    assert "dc: h100: vendor nvidia is not one of metal" in err
    assert "edge-l4: air-gapped and the model source" in err


def test_a_fleet_stack_may_not_set_its_own_site(tmp_path, capsys):
    dest = _mutated(tmp_path, lambda f: None)
    stack = dest / "Pulumi.edge-metal.yaml"
    config = yaml.safe_load(stack.read_text())
    config["config"]["llmkube:site"] = {"name": "edge-metal", "jurisdiction": "DE"}
    stack.write_text(yaml.safe_dump(config))
    assert main(["check", str(dest), "--stack", "edge-metal"]) == 2
    assert "remove llmkube:site" in capsys.readouterr().err


def test_a_missing_fleet_file_is_invalid_input(tmp_path, capsys):
    dest = _mutated(tmp_path, lambda f: None)
    (dest / "fleet.yaml").unlink()
    assert main(["check", str(dest), "--stack", "dc"]) == 2
    assert "llmkube:fleet: cannot read the fleet definition fleet.yaml" in capsys.readouterr().err
