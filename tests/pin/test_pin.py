"""`llmkube-iac pin` end to end: render, resolve every image against a loopback registry, write the stack
config, and the next render runs only digest-pinned images; the stack file keeps everything else."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from llmkube_iac.pin.cli import stack_images
from llmkube_iac.pin.stack_file import with_digests
from llmkube_iac.plan.images import images_of, pod_spec_of
from llmkube_iac.policy.base import PolicyResult
from llmkube_iac.render.engine import render_program
from tests.conftest import ROOT, minimal_stack
from tests.support.fake_registry import FakeRegistry

DIGEST = "sha256:" + "5e" * 32
HEADER = "# Site stack: comments and layout survive pin\n"


@pytest.fixture
def registry():
    reg = FakeRegistry().start()
    yield reg
    reg.stop()


def program(tmp_path, registry, raw=None) -> tuple:
    raw = raw or minimal_stack()
    raw["site"]["registryMirrors"] = [{"source": "*", "mirror": f"{registry.host}/mirror"}]
    (tmp_path / "Pulumi.yaml").write_text("name: llmkube\nruntime: python\n")
    (tmp_path / "__main__.py").write_text((ROOT / "stacks" / "__main__.py").read_text())
    stack = tmp_path / "Pulumi.test.yaml"
    stack.write_text(HEADER + yaml.safe_dump({"config": {f"llmkube:{k}": v for k, v in raw.items()}}, sort_keys=False))
    return tmp_path, stack


def pod_images(result) -> list[str]:
    return sorted({i for m in result.manifests if pod_spec_of(m) for i in images_of(pod_spec_of(m))})


def pin(directory, *extra):
    return subprocess.run(
        [sys.executable, "-m", "llmkube_iac", "pin", str(directory), "--stack", "test", *extra],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=180,
    )


def test_pin_resolves_every_image_and_the_next_render_runs_them_by_digest(tmp_path, registry):
    directory, stack = program(tmp_path, registry)
    before = render_program(directory, "test", None, evaluate_policies=False)
    refs, fixed = stack_images(before.manifests, {})
    assert refs and not fixed and all(r.startswith(f"{registry.host}/mirror/") for r in refs)
    expected = {}
    for n, ref in enumerate(refs):  # the registry holds each image; its digests come from the bytes it serves
        name, _, tag = ref[len(registry.host) + 1 :].rpartition(":")
        expected[ref] = registry.push(name, tag, {"schemaVersion": 2, "n": n})
    done = pin(directory, "--plain-http", registry.host)
    assert done.returncode == 0, done.stderr
    assert f"wrote {len(refs)} digest(s)" in done.stdout
    text = stack.read_text()
    assert text.startswith(HEADER)
    assert yaml.safe_load(text)["config"]["llmkube:site"]["imageDigests"] == expected
    after = render_program(directory, "test", None)
    assert pod_images(after) == sorted(f"{r}@{d}" for r, d in expected.items())
    assert not [r for r in after.policy_results if isinstance(r, PolicyResult) and r.rule == "image-pinning"]
    for m in after.manifests:
        assert not any(
            v.startswith(("CKV_K8S_43", "CKV_K8S_15")) for v in (m["metadata"].get("annotations") or {}).values()
        )
    again = pin(directory, "--plain-http", registry.host)  # pinning again refreshes: same digests, unchanged
    assert again.returncode == 0 and again.stdout.count("(unchanged)") == len(refs)


def test_one_unresolvable_image_writes_nothing(tmp_path, registry):
    directory, stack = program(tmp_path, registry)
    original = stack.read_text()
    refs, _ = stack_images(render_program(directory, "test", None, evaluate_policies=False).manifests, {})
    name, _, tag = refs[0][len(registry.host) + 1 :].rpartition(":")
    registry.push(name, tag, {"schemaVersion": 2})  # only the first image exists on the mirror
    done = pin(directory, "--plain-http", registry.host)
    assert done.returncode == 1 and "nothing written" in done.stderr and "no such manifest" in done.stderr
    assert "Traceback" not in done.stderr and stack.read_text() == original


def test_images_the_stack_pins_itself_are_left_alone(tmp_path, registry):
    raw = minimal_stack()
    raw["services"][0]["image"] = "ghcr.io/ggml-org/llama.cpp:server-b6710@" + DIGEST
    directory, _ = program(tmp_path, registry, raw)
    refs, fixed = stack_images(render_program(directory, "test", None, evaluate_policies=False).manifests, {})
    assert fixed == [f"{registry.host}/mirror/ghcr.io/ggml-org/llama.cpp:server-b6710@{DIGEST}"]
    assert not [r for r in refs if "llama.cpp" in r]


def test_stack_file_edits_only_image_digests_or_refuses():
    text = "config:\n  llmkube:site:\n    name: a  # the site\n    jurisdiction: DE\n\n  llmkube:models: []\n"
    edited = with_digests(text, {"r.io/a:1": DIGEST})
    assert "# the site" in edited and yaml.safe_load(edited)["config"]["llmkube:site"]["imageDigests"] == {
        "r.io/a:1": DIGEST
    }
    assert with_digests(edited, {}).count("imageDigests") == 1
    with pytest.raises(ValueError, match="llmkube:site"):
        with_digests('config:\n  llmkube:site: {"name": "a", "jurisdiction": "DE"}\n', {"r.io/a:1": DIGEST})
    with pytest.raises(ValueError, match="llmkube:site"):
        with_digests("config: {}\n", {"r.io/a:1": DIGEST})


def test_a_site_declared_in_code_gets_the_block_to_add(tmp_path, registry):
    raw = minimal_stack()
    raw["site"]["registryMirrors"] = [{"source": "*", "mirror": f"{registry.host}/mirror"}]
    (tmp_path / "Pulumi.yaml").write_text("name: coded\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text(f"from llmkube_iac import Site\n\nSite('test', {raw!r})\n")
    refs, _ = stack_images(render_program(tmp_path, "dev", None, evaluate_policies=False).manifests, {})
    for ref in refs:
        name, _, tag = ref[len(registry.host) + 1 :].rpartition(":")
        registry.push(name, tag, {"schemaVersion": 2, "ref": ref})
    done = subprocess.run(
        [sys.executable, "-m", "llmkube_iac", "pin", str(tmp_path), "--stack", "dev", "--plain-http", registry.host],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=180,
    )
    assert done.returncode == 1 and "declared elsewhere" in done.stderr and "imageDigests:" in done.stderr
    assert all(ref in done.stderr for ref in refs) and "Traceback" not in done.stderr
    assert (tmp_path / "Pulumi.dev.yaml").read_text() == "config: {}\n"


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "llmkube_iac", "pin", str(tmp_path / "nowhere")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 2 and "invalid input" in done.stderr and "Traceback" not in done.stderr
