"""An external scanner over every render: checkov's Kubernetes framework finds nothing unexplained.

Every stack and example is rendered offline into one directory and scanned with the pinned checkov
(its own virtualenv: scripts/install-checkov, which scripts/test runs). No check may fail; a check
that cannot pass is skipped only by an annotation in the manifest itself whose reason is one the
planner owns (plan/scanner.py) and docs/security.md lists.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from llmkube_iac.plan.scanner import ALL_SKIPS, PREFIX
from llmkube_iac.render.engine import render_program
from tests.conftest import ROOT

CHECKOV_VERSION = "3.3.30"  # keep in step with scripts/install-checkov
PROGRAMS = [
    ("stacks", "dev"),
    ("stacks", "dc"),
    ("examples/quickstart", None),
    ("examples/multi-vendor", None),
    ("examples/router", None),
    ("examples/airgapped-edge", None),
    ("examples/metal-edge", None),
    ("examples/fleet", "all"),
    ("examples/fleet", "dc"),  # the router's federation endpoint (a LoadBalancer Service)
    ("examples/fleet", "edge-l4"),  # a router federating to it
]
COMMAND = ["--framework", "kubernetes", "--output", "json", "--compact", "--quiet", "--skip-download"]


def checkov_binary() -> Path:
    venv = Path(os.environ.get("LLMKUBE_CHECKOV_VENV", ROOT / ".venv-checkov"))
    binary = venv / "bin" / "checkov"
    if not binary.exists():  # nothing is skipped silently: say what to install
        pytest.fail(f"checkov is not installed in {venv}: run bash scripts/install-checkov (scripts/test does)")
    return binary


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("renders")
    for program, stack in PROGRAMS:
        render_program(
            ROOT / program, stack, out / f"{program.replace('/', '_')}-{stack or 'default'}", evaluate_policies=False
        )
    return out


def test_checkov_finds_no_failure_in_any_render(rendered):
    binary = checkov_binary()
    # --skip-download: no call to the vendor's platform (guidelines, mappings); the scan itself is local
    proc = subprocess.run([str(binary), "-d", str(rendered), *COMMAND], capture_output=True, text=True, timeout=300)
    reports = json.loads(proc.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    (report,) = [r for r in reports if r.get("check_type") == "kubernetes"]
    summary = report["summary"]
    assert summary["checkov_version"] == CHECKOV_VERSION
    failed = [
        f"{f['check_id']} {f['resource']} ({f['file_path']}): {f['check_name']}"
        for f in report["results"]["failed_checks"]
    ]
    assert summary["failed"] == 0 and not failed, "\n".join(failed)
    assert summary["parsing_errors"] == 0
    assert summary["passed"] > 1000 and summary["resource_count"] > 100  # it did scan the renders


def test_every_skip_in_a_manifest_is_one_the_planner_owns(rendered):
    owned = {(check, reason) for checks in ALL_SKIPS.values() for check, reason in checks.items()}
    seen = set()
    for path in rendered.glob("*/*/1-manifest/*.yaml"):
        notes = yaml.safe_load(path.read_text())["metadata"].get("annotations") or {}
        for key, value in notes.items():
            if key.startswith(PREFIX):
                check, _, reason = value.partition("=")
                assert (check, reason) in owned, f"{path.name}: unexplained skip {value}"
                seen.add(check)
    assert {"CKV_K8S_43", "CKV_K8S_15", "CKV_K8S_35"} <= seen  # the examples do exercise them
