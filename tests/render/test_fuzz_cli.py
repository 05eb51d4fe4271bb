"""Fuzz: mutated stack files through `llmkube-iac check` (in-process), end to end.

The whole path a user runs: YAML parsing with Pulumi's rules, the program, the Site component,
plan-time facts off, every policy rule. Exit 0/1: every object written is valid for the API
server; exit 2: one line per problem, each naming a field (a config path, the file and line, an
option or the program); never another exit code, never a traceback.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings

from llmkube_iac.cli import main
from tests.conftest import ROOT
from tests.support.fuzz import assert_valid_for_the_api_server, stack_files

ROOTS = ("site", "models", "services", "routers", "Pulumi.s.yaml", "llmkube:", "program", "--")


def run_check(tmp: Path, text: str, capsys) -> tuple[int, str]:
    (tmp / "Pulumi.yaml").write_text("name: llmkube\nruntime: python\n")
    (tmp / "__main__.py").write_text((ROOT / "stacks" / "__main__.py").read_text())
    (tmp / "Pulumi.s.yaml").write_text(text, encoding="utf-8")
    capsys.readouterr()
    rc = main(["check", str(tmp), "--stack", "s", "--out", str(tmp / "out")])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return rc, err


def assert_contract(tmp: Path, rc: int, err: str) -> None:
    assert rc in (0, 1, 2), err
    if rc == 2:
        lines = err.splitlines()
        assert lines[0] == "invalid input:" and len(lines) > 1, err
        for line in lines[1:]:
            assert line.startswith("  ") and ": " in line and line.strip().startswith(ROOTS), line
        return
    files = sorted((tmp / "out").glob("*/*/*.yaml"))
    assert files
    for f in files:
        assert_valid_for_the_api_server(yaml.safe_load(f.read_text()))


@settings(
    max_examples=60,
    deadline=15000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
@given(text=stack_files())
def test_mutated_stack_files_keep_the_cli_contract(tmp_path_factory, monkeypatch, capsys, text):
    monkeypatch.setenv("LLMKUBE_PLAN_TIME_FACTS", "off")
    tmp = tmp_path_factory.mktemp("fuzz")
    rc, err = run_check(tmp, text, capsys)
    assert_contract(tmp, rc, err)
