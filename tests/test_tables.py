"""The tables are the only source of truth: a vendor, a runtime and an add-on registered in their
tables alone are accepted, listed in the schema, planned and rendered, with no spec/ or plan/ change;
and no module outside the tables switches on a vendor or runtime name."""

from __future__ import annotations

import re

import pytest
import yaml

from llmkube_iac import addons, hardware, runtimes
from llmkube_iac.addons import ADDONS, AddOn, vendor_operator
from llmkube_iac.hardware import VENDORS, VendorProfile
from llmkube_iac.plan.site import plan_site_base
from llmkube_iac.plan.stack import plan_stack
from llmkube_iac.render.engine import render_program
from llmkube_iac.runtimes import RUNTIMES, Runtime
from llmkube_iac.spec import SiteSpec, StackConfig, load_stack_config
from llmkube_iac.spec.errors import SpecError
from tests.conftest import ROOT, minimal_stack
from tests.support.k8s_schema import validate_manifest

IMAGE = "registry.example/acme/serve:1.0@sha256:" + "ab" * 32
ACME = VendorProfile(
    name="acme",
    resource_key="npu.acme.example/device",
    image_flavour="acme",
    node_selector={"npu.acme.example/present": "true"},
    product_label="npu.acme.example/product",
    tolerations=({"key": "npu.acme.example/device", "operator": "Exists", "effect": "NoSchedule"},),
    env={"ACME_RUNTIME_LOG": "warn"},
    multi_device_env={},
    visible_devices_env="ACME_VISIBLE_DEVICES",
    needs_shm=False,
    supplemental_groups=(),
    metrics_exporter=None,
    operator="acme-npu-operator",
)
ACMESERVE = Runtime(
    name="acmeserve",
    images={"acme": IMAGE},
    port=9000,
    health_path="/healthz",
    ready_path="/ready",
    metrics_path="/metrics",
    queue_metric="acme_queue_depth",
    kv_cache_types=("f16",),
    build_command=lambda ctx: ["acme-serve"],
    build_args=lambda ctx: ["--weights", ctx.model_path, "--port", str(ctx.port), "--name", ctx.served_name],
)
ACME_OPERATOR = AddOn(
    "acme-npu-operator",
    "npu-operator",
    "1.2.3",
    "https://charts.acme.example",
    "acme-system",
    vendor_operator,
    {"driver": {"enabled": False}},
)


@pytest.fixture
def acme(monkeypatch):
    """Register the fake vendor, runtime and operator add-on in their tables only (undone after the test)."""
    monkeypatch.setitem(VENDORS, ACME.name, ACME)
    monkeypatch.setitem(RUNTIMES, ACMESERVE.name, ACMESERVE)
    monkeypatch.setitem(ADDONS, ACME_OPERATOR.name, ACME_OPERATOR)


def acme_stack() -> dict:
    raw = minimal_stack()
    raw["site"].update(
        operators={"gpuOperators": True},
        accelerators=[
            {
                "name": "npus",
                "vendor": "acme",
                "memoryGiB": 64,
                "devicesPerNode": 4,
                "nodeCount": 2,
                "nodeLabels": {"pool.acme.example/name": "npus"},
            }
        ],
    )
    raw["services"][0].update(runtime="acmeserve", accelerator={"vendor": "acme", "count": 2}, kvCacheTypeK="f16")
    return raw


def test_a_vendor_and_runtime_added_to_the_tables_alone_are_planned(acme):
    plan = plan_stack(load_stack_config(acme_stack()))
    deploy = next(m for m in plan.services["chat"].manifests if m["kind"] == "Deployment")
    pod = deploy["spec"]["template"]["spec"]
    c = pod["containers"][0]
    assert c["image"] == IMAGE and c["command"] == ["acme-serve"]
    assert c["args"][0] == "--weights" and c["args"][2:] == ["--port", "9000", "--name", "tiny"]
    assert c["resources"]["limits"]["npu.acme.example/device"] == "2"
    env = {e["name"]: e["value"] for e in c["env"]}
    assert env["ACME_RUNTIME_LOG"] == "warn" and env["ACME_VISIBLE_DEVICES"] == "0,1"
    assert c["startupProbe"]["httpGet"]["path"] == "/healthz" and c["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert pod["nodeSelector"] == {"npu.acme.example/present": "true", "pool.acme.example/name": "npus"}
    assert pod["tolerations"][0]["key"] == "npu.acme.example/device"
    labels = deploy["metadata"]["labels"]
    assert labels["llmkube.dev/vendor"] == "acme" and labels["llmkube.dev/runtime"] == "acmeserve"
    for m in plan.all_manifests():
        if m["apiVersion"] != "llmkube.dev/v1":
            validate_manifest(m)
    charts = [m for m in plan.site if m["kind"] == "HelmChart"]
    assert [
        (m["metadata"]["name"], m["metadata"]["namespace"], m["spec"]["chart"], m["spec"]["version"]) for m in charts
    ] == [("acme-npu-operator", "acme-system", "npu-operator", "1.2.3")]
    assert charts[0]["spec"]["values"] == {"driver": {"enabled": False}}


def _program(directory, raw: dict, stack: str = "s") -> None:
    (directory / "Pulumi.yaml").write_text("name: llmkube\nruntime: python\n")
    (directory / "__main__.py").write_text((ROOT / "stacks" / "__main__.py").read_text())
    (directory / f"Pulumi.{stack}.yaml").write_text(
        yaml.safe_dump({"config": {f"llmkube:{k}": v for k, v in raw.items()}})
    )


def test_the_offline_render_of_a_program_uses_the_registered_entries(acme, tmp_path):
    program, out = tmp_path / "program", tmp_path / "out"
    program.mkdir()
    _program(program, acme_stack())
    result = render_program(program, "s", out)
    files = sorted(out.glob("*/1-manifest/*.yaml"))
    assert files and len(files) == len(result.manifests)
    deploys = [yaml.safe_load(f.read_text()) for f in files if "deployment" in f.name]
    assert [d["spec"]["template"]["spec"]["containers"][0]["image"] for d in deploys] == [IMAGE]
    assert [(r.props["chart"], r.props["version"], r.props["namespace"]) for r in result.charts] == [
        ("npu-operator", "1.2.3", "acme-system")
    ]
    assert not [p for p in result.policy_results if p.level == "mandatory"], result.policy_results


def test_the_schema_lists_what_the_tables_hold_now(acme):
    schema = StackConfig.model_json_schema(by_alias=True)
    defs = schema["$defs"]
    assert defs["AcceleratorSpec"]["properties"]["vendor"]["enum"] == list(VENDORS)
    assert defs["AcceleratorPool"]["properties"]["vendor"]["enum"] == list(VENDORS)
    assert defs["InferenceServiceSpec"]["properties"]["runtime"]["enum"] == list(RUNTIMES)
    assert "acme" in list(VENDORS) and "acmeserve" in list(RUNTIMES)
    assert defs["AcceleratorSpec"]["properties"]["vendor"]["default"] == hardware.DEFAULT_VENDOR
    assert defs["InferenceServiceSpec"]["properties"]["runtime"]["default"] == runtimes.DEFAULT_RUNTIME


def test_the_schema_has_no_entry_the_tables_lack():
    vendors = StackConfig.model_json_schema(by_alias=True)["$defs"]["AcceleratorSpec"]["properties"]["vendor"]
    assert vendors["enum"] == list(VENDORS) and "acme" not in vendors["enum"]


@pytest.mark.parametrize(
    "mutate, path, valid",
    [
        (
            lambda c: c["services"][0].update(accelerator={"vendor": "tpu"}),
            "services[0].accelerator.vendor",
            lambda: VENDORS,
        ),
        (
            lambda c: c["site"].update(accelerators=[{"name": "p", "vendor": "tpu"}]),
            "site.accelerators[0].vendor",
            lambda: VENDORS,
        ),
        (lambda c: c["services"][0].update(runtime="tensorrt"), "services[0].runtime", lambda: RUNTIMES),
    ],
)
def test_unknown_names_are_refused_naming_every_valid_choice(mutate, path, valid):
    raw = minimal_stack()
    mutate(raw)
    with pytest.raises(SpecError) as err:
        load_stack_config(raw)
    messages = dict(err.value.problems)
    assert path in messages, err.value.problems
    assert messages[path].endswith("valid: " + ", ".join(valid()))


def test_a_name_is_refused_again_once_its_entry_is_gone(acme, monkeypatch):
    load_stack_config(acme_stack())
    monkeypatch.delitem(RUNTIMES, "acmeserve")
    with pytest.raises(SpecError, match=r"unknown runtime 'acmeserve'"):
        load_stack_config(acme_stack())


def test_every_vendor_operator_is_an_add_on():
    for profile in VENDORS.values():
        assert profile.operator is None or profile.operator in ADDONS, profile.name


def test_a_vendor_naming_a_missing_add_on_is_refused_not_skipped(acme, monkeypatch):
    monkeypatch.delitem(ADDONS, "acme-npu-operator")
    with pytest.raises(
        ValueError, match=r"vendor acme names operator add-on 'acme-npu-operator'.*valid: .*gpu-operator"
    ):
        plan_stack(load_stack_config(acme_stack()))


def test_an_add_on_is_one_table_entry(monkeypatch):
    """A new add-on with its own site condition: one entry, and the site installs it exactly when it holds."""
    monkeypatch.setitem(
        ADDONS,
        "cert-manager",
        AddOn(
            "cert-manager",
            "cert-manager",
            "v1.18.2",
            "https://charts.jetstack.io",
            "cert-manager",
            lambda site, addon: site.cert_issuer is not None,
            {"crds": {"enabled": True}},
        ),
    )
    with_issuer = SiteSpec.model_validate({"name": "s", "jurisdiction": "DE", "certIssuer": "internal-ca"})
    charts = [m for m in plan_site_base(with_issuer) if m["kind"] == "HelmChart"]
    assert [(m["metadata"]["name"], m["spec"]["values"]) for m in charts] == [
        ("cert-manager", {"crds": {"enabled": True}})
    ]
    plain = SiteSpec.model_validate({"name": "s", "jurisdiction": "DE"})
    assert not [m for m in plan_site_base(plain) if m["kind"] == "HelmChart"]


def test_site_add_ons_follow_their_conditions():
    site = SiteSpec.model_validate(
        {
            "name": "s",
            "jurisdiction": "DE",
            "operators": {"gpuOperators": True, "keda": True},
            "accelerators": [{"name": "a", "vendor": "nvidia"}, {"name": "b", "vendor": "cpu"}],
        }
    )
    assert [a.name for a in addons.site_addons(site)] == [VENDORS["nvidia"].operator, "keda"]
    off = site.model_copy(update={"operators": site.operators.model_copy(update={"gpu_operators": False})})
    assert [a.name for a in addons.site_addons(off)] == ["keda"]


# -- nothing outside the tables switches on a name ---------------------------------------------------------------
SCANNED = ("plan", "policy", "spec", "agent", "components", "render")


def _names() -> list[str]:
    names = set(VENDORS) | set(RUNTIMES) | set(runtimes.native_runtimes())
    names |= {v.image_flavour for v in VENDORS.values()}
    return sorted(names - {"cpu"}, key=len, reverse=True)  # "cpu" is also a Kubernetes resource: see below


def _switches(text: str) -> list[str]:
    names = "|".join(re.escape(n) for n in _names())
    q = rf"""["']({names})["']"""
    patterns = [
        rf"(==|!=)\s*{q}",
        rf"{q}\s*(==|!=)",  # comparisons
        rf"\bin\s*[(\[{{][^)\]}}\n]*{q}",  # membership in a literal tuple/list/set
        rf"\b(vendor|runtime|native_runtime|addon)\(\s*{q}",
        rf"\b(VENDORS|RUNTIMES|ADDONS)\[\s*{q}",  # lookups
        rf"\b(vendor|runtime|flavour)\w*\s*=\s*{q}",  # keyword arguments and defaults
        r"""\b(vendor|flavour)\w*\s*(==|!=|in|not in)\s*[(\[]?[^\n]*["']cpu["']""",  # "cpu" as a vendor
        r"""\b(Vendor|RuntimeName|NativeName)\s*=\s*["']""",  # a spec default naming an entry
    ]
    return [m.group(0) for p in patterns for m in re.finditer(p, text)]


@pytest.mark.parametrize("area", SCANNED)
def test_no_vendor_or_runtime_name_is_switched_on_outside_the_tables(area):
    found = {
        str(f.relative_to(ROOT)): hits
        for f in sorted((ROOT / "llmkube_iac" / area).rglob("*.py"))
        if (hits := _switches(f.read_text()))
    }
    assert not found, f"name switches outside hardware.py/runtimes/addons.py (use a table attribute): {found}"


@pytest.mark.parametrize(
    "snippet",
    [
        'if svc.runtime == "llamacpp":',
        'if native == "llama-server":',
        'if v.vendor in ("nvidia", "amd"):',
        'vendor("metal")',
        'discovery_labels(vendor="metal")',
        'if acc.vendor != "cpu":',
        'RUNTIMES["ollama"]',
        'vendor: Vendor = "cpu"',
    ],
)
def test_the_scan_catches_a_switch(snippet):
    assert _switches(snippet), snippet


@pytest.mark.parametrize(
    "snippet",
    ['if auto.signal == "cpu":', '{"requests": {"cpu": "50m"}}', 'ModelFormat = Literal["gguf", "safetensors"]'],
)
def test_the_scan_leaves_other_words_alone(snippet):
    assert not _switches(snippet), snippet
