"""The pure layers import with Pulumi absent.

spec, plan, the policy rules, modelinfo, runtimes and hardware (and the package root, which loads
the components lazily) must never import pulumi, pulumi_kubernetes or pulumi_policy (which itself
imports pulumi), so they stay usable and testable without the Pulumi SDK (the metal agent on an
Apple Silicon host reads spec, for one). A fresh interpreter blocks those packages with a meta-path
finder, then imports every module of the pure packages, found by walking them, so a module added
later is covered too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCKED = ("pulumi", "pulumi_kubernetes", "pulumi_policy")
PURE = (
    "llmkube_iac",
    "llmkube_iac.spec",
    "llmkube_iac.plan",
    "llmkube_iac.policy",
    "llmkube_iac.modelinfo",
    "llmkube_iac.runtimes",
    "llmkube_iac.hardware",
)
# Walked only inside PURE packages: llmkube_iac itself is imported, not walked (components, render and
# the CLI need Pulumi); inside the policy package only the CrossGuard adapter may load pulumi_policy.
ADAPTERS = ("llmkube_iac.policy.crossguard",)

SCRIPT = textwrap.dedent("""
    import importlib, importlib.abc, json, pkgutil, sys

    BLOCKED, PURE, ADAPTERS = {blocked!r}, {pure!r}, {adapters!r}


    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in BLOCKED:
                raise ImportError(f"{{name}} is blocked: a pure layer must not import it")
            return None


    sys.meta_path.insert(0, Block())
    report = {{"imported": [], "failed": {{}}, "adapters": {{}}, "loaded": []}}


    def load(name):
        try:
            module = importlib.import_module(name)
        except Exception as exc:  # the failure is the finding: name it and go on
            report["failed"][name] = f"{{type(exc).__name__}}: {{exc}}"
            return None
        report["imported"].append(name)
        return module


    def walk(package):
        for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
            if info.name.startswith(ADAPTERS):
                continue
            module = load(info.name)
            if module is not None and info.ispkg:
                walk(module)


    for root in PURE:
        module = load(root)
        if module is not None and hasattr(module, "__path__") and root != "llmkube_iac":
            walk(module)
    report["loaded"] = sorted(m for m in sys.modules if m.partition(".")[0] in BLOCKED)
    for name in ADAPTERS:  # the control: the adapter needs pulumi_policy, so the block must stop it
        for sub in (name + ".pack", name + ".offline"):
            try:
                importlib.import_module(sub)
                report["adapters"][sub] = "imported"
            except ImportError as exc:
                report["adapters"][sub] = str(exc)
    print(json.dumps(report))
""").format(blocked=BLOCKED, pure=PURE, adapters=ADAPTERS)


@pytest.fixture(scope="module")
def report() -> dict:
    """What a fresh interpreter with Pulumi blocked could import (this tree first on its path)."""
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_pure_layers_import_without_pulumi(report):
    assert report["failed"] == {}, "pure modules that need Pulumi (or fail to import):\n" + "\n".join(
        f"  {name}: {why}" for name, why in report["failed"].items()
    )
    assert report["loaded"] == []
    imported = set(report["imported"])
    # the walk really covered the layers: every rule module, the planners and the runtimes
    expected = {
        "llmkube_iac",
        "llmkube_iac.hardware",
        "llmkube_iac.spec.service",
        "llmkube_iac.plan.stack",
        "llmkube_iac.modelinfo.fit",
        "llmkube_iac.runtimes.llamacpp",
        "llmkube_iac.policy.view",
        "llmkube_iac.policy.rules.gpu_fit",
        "llmkube_iac.policy.rules.airgap_images",
    }
    assert expected <= imported, sorted(expected - imported)
    rules_dir = ROOT / "llmkube_iac" / "policy" / "rules"
    rule_modules = {f"llmkube_iac.policy.rules.{p.stem}" for p in rules_dir.glob("*.py") if p.stem != "__init__"}
    assert rule_modules and rule_modules <= imported
    assert not any(name.startswith(ADAPTERS) for name in imported)


def test_the_block_stops_the_crossguard_adapter(report):
    """The control: the same block makes the pulumi_policy adapter fail, so the check above can fail."""
    adapters = report["adapters"]
    assert set(adapters) == {"llmkube_iac.policy.crossguard.pack", "llmkube_iac.policy.crossguard.offline"}
    for name, outcome in adapters.items():
        assert "is blocked" in outcome, (name, outcome)
