"""The CI preview gate works on a plain runner: a Pulumi project where it runs, the stack created on the
fly, a local backend, the CLI pinned, rendering instead of a cluster, and the rights a PR comment needs."""

from __future__ import annotations

import yaml

from tests.conftest import ROOT


def test_preview_job_is_runnable_without_a_cluster_or_an_account():
    jobs = yaml.safe_load((ROOT / ".github" / "workflows" / "policy.yml").read_text())["jobs"]
    preview = jobs["preview"]
    assert preview["permissions"]["pull-requests"] == "write"
    step = next(s for s in preview["steps"] if str(s.get("uses", "")).startswith("pulumi/actions@"))
    args = step["with"]
    assert (ROOT / args["work-dir"] / "Pulumi.yaml").is_file()
    assert args["upsert"] is True and args["command"] == "preview"
    assert args["pulumi-version"].count(".") == 2 and args["pulumi-version"][0].isdigit()  # pinned
    assert args["cloud-url"].startswith("file://")
    assert "llmkube:renderOnlyDir" in yaml.safe_load(args["config-map"])
    assert args["policyPacks"] == "policy"
    for entry in preview["strategy"]["matrix"]["include"]:
        assert (ROOT / "stacks" / f"Pulumi.{entry['stack']}.yaml").is_file()
        assert not entry["config"] or (ROOT / entry["config"]).is_file()


def test_projects_run_in_a_virtualenv():
    for path in [ROOT / "Pulumi.yaml", *sorted((ROOT / "examples").glob("*/Pulumi.yaml"))]:
        runtime = yaml.safe_load(path.read_text())["runtime"]
        venv = runtime["options"]["virtualenv"]
        assert runtime["name"] == "python" and (path.parent / venv).resolve() == (ROOT / ".venv").resolve(), path
