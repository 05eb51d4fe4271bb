"""The mutation test: examples/airgapped-edge passes every rule; each injected violation is caught
by the rule that owns it, and `llmkube-iac check` exits 1."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from llmkube_iac.cli import main
from llmkube_iac.render.engine import render_program

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "airgapped-edge"

# A Pulumi stack transformation: the one way to get a privileged pod, since the spec cannot say it.
PRIVILEGED = """
import pulumi


def _privileged(args):
    if args.type_ == "kubernetes:apps/v1:Deployment" and "chat" in args.name:
        spec = args.props["spec"]["template"]["spec"]
        spec["containers"][0]["securityContext"]["privileged"] = True
        return pulumi.ResourceTransformationResult(args.props, args.opts)
    return None


pulumi.runtime.register_stack_transformation(_privileged)
"""


def _copy(tmp_path: Path) -> tuple[Path, dict]:
    dest = tmp_path / "edge"
    shutil.copytree(EXAMPLE, dest)
    return dest, yaml.safe_load((dest / "Pulumi.edge.yaml").read_text())


def _write(dest: Path, doc: dict) -> None:
    (dest / "Pulumi.edge.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))


def _service(doc: dict, name: str) -> dict:
    return next(s for s in doc["config"]["llmkube:services"] if s["name"] == name)


def external_image(doc, dest):
    _service(doc, "chat")["image"] = "quay.io/someone/llama.cpp:server-cuda@sha256:" + "4" * 64


def external_chart(doc, dest):
    del doc["config"]["llmkube:site"]["operators"]["chartRegistry"]


def hf_without_mirror(doc, dest):
    doc["config"]["llmkube:models"][0]["source"] = "hf://Qwen/Qwen3.5-9B-GGUF/Qwen3.5-9B-Q4_K_M.gguf"


def confidential_abroad(doc, dest):
    doc["config"]["llmkube:site"]["jurisdiction"] = "US"


def does_not_fit(doc, dest):
    doc["config"]["llmkube:models"][0].update(
        source="https://models.edge.internal/qwen/Qwen3-235B-A22B-Q4_K_M.gguf",
        totalParametersB=235,
        activeParametersB=22,
        architecture="MoE",
        sizeGiB=133,
    )


def too_many_gpus(doc, dest):
    _service(doc, "chat")["autoscaling"]["maxReplicas"] = 5


def privileged_pod(doc, dest):
    main_py = dest / "__main__.py"
    main_py.write_text(PRIVILEGED + main_py.read_text())


def literal_api_key(doc, dest):
    _service(doc, "chat")["env"] = {"OPENAI_API_KEY": "sk-proj-" + "Abc123xyz" * 4}


MUTATIONS = [
    ("external image", external_image, "airgap-images"),
    ("external chart", external_chart, "airgap-charts"),
    ("hf:// without the mirror", hf_without_mirror, "airgap-model-sources"),
    ("confidential service abroad", confidential_abroad, "data-residency"),
    ("model that does not fit", does_not_fit, "gpu-fit"),
    ("more GPUs than the site has", too_many_gpus, "capacity"),
    ("privileged pod (stack transformation)", privileged_pod, "security-baseline"),
    ("literal API key in env", literal_api_key, "secrets-hygiene"),
]


def test_clean_example_has_zero_violations_and_exits_0():
    result = render_program(EXAMPLE, "edge")
    assert result.policy_results == []
    proc = subprocess.run(
        [sys.executable, "-m", "llmkube_iac.cli", "check", str(EXAMPLE), "--stack", "edge"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("label,mutate,rule", MUTATIONS)
def test_each_injected_violation_is_caught_by_its_rule(tmp_path, capsys, label, mutate, rule):
    dest, doc = _copy(tmp_path)
    mutate(doc, dest)
    _write(dest, doc)
    fired = {r.rule for r in render_program(dest, "edge").policy_results if r.level == "mandatory"}
    assert rule in fired, f"{label}: expected {rule}, got {sorted(fired)}"
    assert main(["check", str(dest), "--stack", "edge"]) == 1
    out = capsys.readouterr()
    assert rule in out.out and "refused" in out.err
