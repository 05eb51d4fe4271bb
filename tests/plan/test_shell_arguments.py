"""Shell steps the planner emits take values as arguments ("$1"), never inside the script text.

Each `/bin/sh -c` step is run for real with a hostile value: the value arrives intact and nothing
in it is executed.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from llmkube_iac.plan.service import VERIFY_SCRIPT
from llmkube_iac.plan.stack import plan_stack
from llmkube_iac.runtimes.ollama import COMMAND
from llmkube_iac.spec import load_stack_config
from tests.conftest import minimal_stack

HOSTILE = "hf://o/r/m$(touch {canary})`touch {canary}`;touch {canary}.gguf"


def _shell_commands(manifests):
    for m in manifests:
        pod = m.get("spec", {}).get("template", {}).get("spec", {})
        for c in pod.get("initContainers", []) + pod.get("containers", []):
            cmd = c.get("command") or []
            if cmd[:2] == ["/bin/sh", "-c"]:
                yield cmd


@pytest.mark.parametrize("runtime", ["llamacpp", "ollama"])
def test_every_shell_step_keeps_config_values_out_of_the_script(runtime):
    raw = minimal_stack()
    raw["models"][0]["source"] = "hf://o/r/m$(id)`id`.gguf"
    raw["services"][0].update(runtime=runtime, engine={"servedModelName": "x'; id; echo '"})
    plan = plan_stack(load_stack_config(raw))
    commands = list(_shell_commands(plan.all_manifests()))
    assert len(commands) == (2 if runtime == "ollama" else 1)
    for cmd in commands:
        assert "$(id)" not in cmd[2] and "`id`" not in cmd[2] and "id; echo" not in cmd[2]


def test_verify_step_reports_a_hostile_source_without_running_it(tmp_path):
    canary = tmp_path / "pwned"
    source = HOSTILE.format(canary=canary)
    proc = subprocess.run(
        ["/bin/sh", "-c", VERIFY_SCRIPT, "verify-model", str(tmp_path / "missing"), "", source, "job-x"],
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert proc.returncode == 1 and source in proc.stdout and not canary.exists()
    marker = tmp_path / "marker.json"
    marker.write_text('{"sha256": "' + "a" * 64 + '"}')
    ok = ["/bin/sh", "-c", VERIFY_SCRIPT, "verify-model", str(marker)]
    assert subprocess.run(ok + ["a" * 64, source, "j"], timeout=10).returncode == 0
    wrong = subprocess.run(ok + ["b" * 64, source, "j"], capture_output=True, text=True, timeout=10)
    assert wrong.returncode == 1 and "do not match sha256 " + "b" * 64 in wrong.stdout


def test_ollama_step_passes_path_and_name_as_arguments(tmp_path):
    """A stand-in `ollama` on PATH records what it was asked to create: the name arrives verbatim."""
    canary = tmp_path / "pwned"
    (tmp_path / "ollama").write_text(
        '#!/bin/sh\ncase "$1" in\n  serve) exit 0;;\n  list) exit 0;;\n'
        f'  create) printf \'%s\\n\' "$2" > {tmp_path}/created; cp "$4" {tmp_path}/modelfile; exit 0;;\n'
        "esac\n"
    )
    (tmp_path / "ollama").chmod(0o755)
    name = f"x'; touch {canary}; echo '"
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "TMPDIR": str(tmp_path)}
    proc = subprocess.run(
        [*COMMAND, "/models/m $(touch x).gguf", name], env=env, capture_output=True, text=True, timeout=20
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "created").read_text().strip() == name and not canary.exists()
    assert (tmp_path / "modelfile").read_text() == "FROM /models/m $(touch x).gguf\n"


@pytest.fixture(autouse=True)
def _needs_sh():
    if not shutil.which("sh"):
        pytest.skip("no /bin/sh")
