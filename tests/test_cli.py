"""The CLI as users run it (a real child process): exit codes and messages, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from tests.conftest import ROOT, minimal_stack


def write_program(directory, raw: dict, stack: str = "s"):
    (directory / "Pulumi.yaml").write_text("name: llmkube\nruntime: python\n")
    (directory / "__main__.py").write_text((ROOT / "stacks" / "__main__.py").read_text())
    config = {f"llmkube:{k}": v for k, v in raw.items()}
    (directory / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}))


def cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "llmkube_iac", *args], capture_output=True, text=True, cwd=cwd or ROOT, timeout=120
    )


def break_vendor(c):
    c["services"][0]["accelerator"] = {"vendor": "tpu"}


def break_pair(c):
    c["services"][0]["accelerator"] = {"vendor": "intel-gaudi"}


def break_replicas(c):
    c["services"][0]["replicas"] = -2


def break_source(c):
    c["models"][0]["source"] = "hf:/org//x.gguf"


def break_model(c):
    c["services"][0]["model"] = "nope"


@pytest.mark.parametrize(
    "mutate, field",
    [
        (break_vendor, "services[0].accelerator.vendor"),
        (break_pair, "services[0].accelerator: runtime llamacpp does not run on intel-gaudi"),
        (break_replicas, "services[0].replicas"),
        (break_source, "models[0].source"),
        (break_model, "services[0].model: unknown model 'nope'"),
    ],
)
def test_invalid_stack_config_exits_2_naming_the_field(tmp_path, mutate, field):
    raw = minimal_stack()
    mutate(raw)
    write_program(tmp_path, raw)
    proc = cli("check", str(tmp_path), "--stack", "s")
    assert proc.returncode == 2, proc.stderr
    assert field in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_missing_stack_file_is_invalid_input(tmp_path):
    write_program(tmp_path, minimal_stack())
    proc = cli("check", str(tmp_path), "--stack", "prod")
    assert proc.returncode == 2 and "Pulumi.prod.yaml" in proc.stderr


def test_render_writes_yaml_and_plan(tmp_path):
    out = tmp_path / "out"
    proc = cli("render", "stacks", "--stack", "dev", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert (out / "dev" / "1-manifest" / "apps_v1-deployment-llmkube-dev-chat.yaml").is_file()
    plan = json.loads((out / "plan.json").read_text())
    assert plan["stack"] == "dev" and plan["resources"]


def test_schema_is_json_schema_of_the_stack():
    proc = cli("schema")
    schema = json.loads(proc.stdout)
    assert set(schema["properties"]) >= {"site", "models", "services"}


@pytest.mark.parametrize(
    "program, stack_text, field",
    [
        (
            None,
            "config:\n  llmkube:x:\n    b0: &b0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
            + "".join(f"    b{i}: &b{i} [{', '.join(['*b' + str(i - 1)] * 10)}]\n" for i in range(1, 9)),
            "expands aliases excessively",
        ),
        ("raise RuntimeError('boom')\n", "config: {}\n", "program: the program raised RuntimeError: boom"),
        ("import pulumi\npulumi.export('x', 1)\nraise ValueError('late')\n", "config: {}\n", "raised ValueError: late"),
    ],
)
def test_failures_print_one_line_per_problem_and_nothing_else(tmp_path, program, stack_text, field):
    """In a real process: no traceback and no asyncio noise from a program that failed half-way."""
    write_program(tmp_path, {})
    if program:
        (tmp_path / "__main__.py").write_text(program)
    (tmp_path / "Pulumi.s.yaml").write_text(stack_text)
    proc = cli("check", str(tmp_path), "--stack", "s")
    assert proc.returncode == 2 and field in proc.stderr, proc.stderr
    lines = proc.stderr.splitlines()
    assert lines[0] == "invalid input:" and all(line.startswith("  ") for line in lines[1:]), proc.stderr
