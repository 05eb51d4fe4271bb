"""Hostile and careless input through `llmkube-iac check`, one line per case.

The contract: exit 0 ok, 1 mandatory policy violation, 2 invalid input with one line per problem
naming the field path (and the fix); never a traceback, never a hang. Each case below is a
mutation of a small valid stack (or of its Pulumi.yaml, program or options) with the exit code
and the path and message it must produce. The CLI runs in-process (`cli.main`) for speed; the
child-process behaviour is covered by tests/test_cli.py.
"""

from __future__ import annotations

import json

import pytest

from llmkube_iac.cli import main
from tests.conftest import ROOT

BASE = """config:
  llmkube:site: {name: t, jurisdiction: DE, clusterProvides: [monitoring.coreos.com]}
  llmkube:models:
    - {name: tiny, source: hf://org/tiny-GGUF/tiny-Q4_K_M.gguf, quantization: Q4_K_M, totalParametersB: 0.5}
  llmkube:services:
    - {name: chat, model: tiny}
"""
PROJECT = "name: llmkube\nruntime: python\n"
SVC = "{name: chat, model: tiny}"
SITE = "{name: t, jurisdiction: DE, clusterProvides: [monitoring.coreos.com]}"


def site(jurisdiction: str = "DE", more: str = "") -> str:
    """The site mapping with other fields: monitoring.coreos.com declared (the services' PodMonitors use it)."""
    extra = f", {more}" if more else ""
    return f"{{name: t, jurisdiction: {jurisdiction}, clusterProvides: [monitoring.coreos.com]{extra}}}"


METAL = (
    "{name: t, jurisdiction: DE, clusterProvides: [monitoring.coreos.com], metalHosts: [{name: m1, "
    "chip: M3 Ultra, unifiedMemoryGiB: 192, address: 192.168.10.21}]}"
)
METAL_SVC = "{name: mchat, model: tiny, accelerator: {vendor: metal}}"
ROUTER = (
    "\n  llmkube:routers:\n    - {{name: {name}, masterKeySecret: {{name: k, key: m}}, "
    "backends: [{{name: a, service: chat}}{ext}], modelGroups: [{{name: g, backends: [a]}}]}}"
)
EXTERNAL = (
    ", {name: o, provider: openai, model: gpt-4o-mini, region: eu, jurisdiction: IE, apiKeySecret: {name: k, key: o}}"
)


def sub(old: str, new: str, text: str = BASE) -> str:
    assert old in text
    return text.replace(old, new, 1)


def bomb() -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"] + [
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)
    ]
    return BASE + "  llmkube:unused:\n" + "".join(f"    {line}\n" for line in lines)


# (id, stack file, extra files {name: text}, extra CLI args, exit code, path prefix, message part)
CASES = [
    ("valid", BASE, {}, [], 0, None, None),
    ("yaml 1.1 NO is Norway", sub(SITE, site("NO")), {}, [], 0, None, None),
    ("unquoted date is text", sub(SITE, site("DE", "region: 2024-01-01")), {}, [], 0, None, None),
    ("policy violation", sub(SITE, site("US")), {}, [], 1, None, None),
    # crashes before
    ("config: hello", "config: hello\n", {}, [], 2, "Pulumi.s.yaml config", "must be a mapping"),
    ("non-string key", BASE + "  5: x\n", {}, [], 2, "Pulumi.s.yaml:7:3 config", "keys must be strings"),
    ("date where a code is", sub(SITE, site("2024-01-01")), {}, [], 2, "site.jurisdiction", "ISO 3166-1"),
    (
        "!!binary",
        sub(SITE, site("DE", "region: !!binary aGk=")),
        {},
        [],
        2,
        "Pulumi.s.yaml:2:",
        "config.llmkube:site.region: YAML tag !!binary is not supported",
    ),
    (
        "secure site",
        "config:\n  llmkube:site: {secure: v1:abc}\n",
        {},
        [],
        2,
        "site",
        "a secret as a whole: make only its fields secret",
    ),
    (
        "secure services",
        BASE.replace("- {name: chat, model: tiny}", "- {name: chat, model: {secure: v1:abc}}"),
        {},
        [],
        2,
        "services",
        "holds a secret value, but its values become Kubernetes manifests",
    ),
    ("Pulumi.yaml main: 5", BASE, {"Pulumi.yaml": PROJECT + "main: 5\n"}, [], 2, "Pulumi.yaml main", "a path"),
    (
        "Pulumi.yaml name: 5",
        BASE,
        {"Pulumi.yaml": "name: 5\nruntime: python\n"},
        [],
        2,
        "Pulumi.yaml name",
        "non-empty string",
    ),
    (
        "Pulumi.yaml config: [a]",
        BASE,
        {"Pulumi.yaml": PROJECT + "config: [a]\n"},
        [],
        2,
        "Pulumi.yaml config",
        "must be a mapping",
    ),
    (
        "program raises",
        BASE,
        {"__main__.py": "raise RuntimeError('boom')\n"},
        [],
        2,
        "program",
        "raised RuntimeError: boom (at __main__.py line 1)",
    ),
    ("program syntax error", BASE, {"__main__.py": "def (:\n"}, [], 2, "program", "__main__.py line 1: SyntaxError"),
    (
        "1000 nested lists",
        BASE + "  llmkube:x: " + "[" * 1000 + "]" * 1000 + "\n",
        {},
        [],
        2,
        "Pulumi.s.yaml:7:",
        "nested deeper than 64 levels",
    ),
    (
        "policy-config wrong type",
        BASE,
        {"p.json": '{"capacity": {"requireInventory": "yes"}}'},
        ["--policy-config", "p.json"],
        2,
        "--policy-config p.json capacity.requireInventory",
        "is not boolean",
    ),
    (
        "policy-config unknown setting",
        BASE,
        {"p.json": '{"gpu-fit": {"refuse": ["does-not-fit"], "refuze": []}}'},
        ["--policy-config", "p.json"],
        2,
        "--policy-config p.json gpu-fit.refuze",
        "unknown setting",
    ),
    (
        "policy-config not an object",
        BASE,
        {"p.json": "[1]"},
        ["--policy-config", "p.json"],
        2,
        "--policy-config p.json",
        "must be a JSON object",
    ),
    (
        "policy-config bad level",
        BASE,
        {"p.json": '{"capacity": "strict"}'},
        ["--policy-config", "p.json"],
        2,
        "--policy-config p.json capacity.enforcementLevel",
        "not one of advisory",
    ),
    (
        "policy-config NaN",
        BASE,
        {"p.json": '{"timeout-nesting": {"clientTimeoutSeconds": NaN}}'},
        ["--policy-config", "p.json"],
        2,
        "--policy-config p.json",
        "NaN is not JSON",
    ),
    ("--out is a file", BASE, {"afile": "x"}, ["--out", "afile"], 2, "--out", "is a file"),
    (
        ".inf",
        sub("totalParametersB: 0.5", "totalParametersB: .inf"),
        {},
        [],
        2,
        "Pulumi.s.yaml:4:105 config.llmkube:models[0].totalParametersB",
        "not a finite number",
    ),
    (
        "400-digit integer",
        sub(SVC, "{name: chat, model: tiny, replicas: " + "9" * 400 + "}"),
        {},
        [],
        2,
        "services[0].replicas",
        "less than or equal to 2147483647",
    ),
    # hangs before
    ("alias bomb under an unused key", bomb(), {}, [], 2, "Pulumi.s.yaml:", "expands aliases excessively"),
    # wrong exit codes before
    (
        "inline model shadows a stack model",
        sub(SVC, SVC + "\n    - {name: two, model: {name: tiny, source: hf://x/y/z.gguf}}"),
        {},
        [],
        2,
        "services[1].model",
        "model name 'tiny' already names a different model (models[0])",
    ),
    (
        "misspelled top-level key",
        BASE + "  llmkube:service: []\n",
        {},
        [],
        2,
        "llmkube:service",
        "unknown config key; the program reads llmkube:site, llmkube:models",
    ),
    (
        "duplicate key",
        BASE + "  llmkube:site: {name: u, jurisdiction: DE}\n",
        {},
        [],
        2,
        "Pulumi.s.yaml:7:3 config.llmkube:site",
        "duplicate key (first defined at line 2)",
    ),
    ("un-namespaced stack key", BASE + "  site: {}\n", {}, [], 2, "Pulumi.s.yaml config", "not a config key"),
    (
        "pvc ..",
        sub("hf://org/tiny-GGUF/tiny-Q4_K_M.gguf", "pvc://models/../../etc/shadow"),
        {},
        [],
        2,
        "models[0].source",
        "'..' path segment",
    ),
    (
        "hf ..",
        sub("hf://org/tiny-GGUF/tiny-Q4_K_M.gguf", "hf://org/tiny/../../x.gguf"),
        {},
        [],
        2,
        "models[0].source",
        "no empty, '.' or '..' segments",
    ),
    (
        "s3 ..",
        sub("hf://org/tiny-GGUF/tiny-Q4_K_M.gguf", "s3://bucket/a/../../x.gguf"),
        {},
        [],
        2,
        "models[0].source",
        "'..' path segment",
    ),
    (
        "https %2e%2e",
        sub("hf://org/tiny-GGUF/tiny-Q4_K_M.gguf", "https://h.example/a/%2e%2e/x.gguf"),
        {},
        [],
        2,
        "models[0].source",
        "'..' path segment",
    ),
    (
        "newline in source",
        sub("hf://org/tiny-GGUF/tiny-Q4_K_M.gguf", '"https://h.example/a\\nb.gguf"'),
        {},
        [],
        2,
        "models[0].source",
        "control character",
    ),
    (
        "invalid port",
        sub("hf://org/tiny-GGUF/tiny-Q4_K_M.gguf", "https://h.example:99999/x.gguf"),
        {},
        [],
        2,
        "models[0].source",
        "invalid port",
    ),
    (
        "minReplicas 0 on cpu",
        sub(SVC, "{name: chat, model: tiny, autoscaling: {minReplicas: 0, maxReplicas: 2, signal: cpu}}"),
        {},
        [],
        2,
        "services[0].autoscaling",
        "needs signal: queue",
    ),
    (
        "contextSize > contextWindow",
        sub(
            SVC,
            "{name: chat, model: tiny, contextSize: 100000}",
            sub("totalParametersB: 0.5", "totalParametersB: 0.5, contextWindow: 4096"),
        ),
        {},
        [],
        2,
        "services[0].contextSize",
        "exceed the model's contextWindow (4096)",
    ),
    (
        "metal address",
        sub(SITE, METAL.replace("192.168.10.21", "'not an address!'")),
        {},
        [],
        2,
        "site.metalHosts[0].address",
        "is not an IP address: EndpointSlices advertise the host by address",
    ),
    (
        "metal address by name",
        sub(SITE, METAL.replace("192.168.10.21", "mac1.lab.internal")),
        {},
        [],
        2,
        "site.metalHosts[0].address",
        "a DNS name is not enough: resolve it",
    ),
    # invalid Kubernetes output before
    (
        "storage class",
        sub(SITE, site("DE", "storageClassName: 'Fast SSD'")),
        {},
        [],
        2,
        "site.storageClassName",
        "DNS-1123 subdomain",
    ),
    (
        "memory quantity",
        sub(SVC, "{name: chat, model: tiny, resources: {memory: lots}}"),
        {},
        [],
        2,
        "services[0].resources.memory",
        "not a Kubernetes quantity",
    ),
    (
        "cpu limit below request",
        sub(SVC, "{name: chat, model: tiny, resources: {cpu: '4', cpuLimit: 2}}"),
        {},
        [],
        2,
        "services[0].resources",
        "below the cpu request",
    ),
    (
        "label key",
        sub(SITE, site("DE", "accelerators: [{name: p, vendor: cpu, nodeLabels: {'bad key': x}}]")),
        {},
        [],
        2,
        "site.accelerators[0].nodeLabels['bad key'] (the key)",
        "qualified name",
    ),
    (
        "toleration key",
        sub(SITE, site("DE", "accelerators: [{name: p, vendor: cpu, taints: [{key: 'a b'}]}]")),
        {},
        [],
        2,
        "site.accelerators[0].taints[0].key",
        "qualified name",
    ),
    (
        "secret name",
        sub("totalParametersB: 0.5", "totalParametersB: 0.5, hfTokenSecret: HF_Token"),
        {},
        [],
        2,
        "models[0].hfTokenSecret",
        "DNS-1123 subdomain",
    ),
    (
        "audit claim",
        sub(
            SVC,
            SVC
            + ROUTER.format(name="gw", ext="").replace("modelGroups", "audit: {volumeClaim: 'My Claim'}, modelGroups"),
        ),
        {},
        [],
        2,
        "routers[0].audit.volumeClaim",
        "DNS-1123 subdomain",
    ),
    (
        "audit file path",
        sub(
            SVC,
            SVC
            + ROUTER.format(name="gw", ext="").replace(
                "modelGroups", "audit: {volumeClaim: logs, file: ../../etc/x}, modelGroups"
            ),
        ),
        {},
        [],
        2,
        "routers[0].audit.file",
        "String should match pattern",
    ),
    (
        "CIDR",
        sub(SITE, site("DE", "network: {egressAllowCIDRs: [10.0.0.0/8, 10.0.0.0/33]}")),
        {},
        [],
        2,
        "site.network.egressAllowCIDRs[1]",
        "not a CIDR",
    ),
    (
        "replicas beyond int32",
        sub(SVC, "{name: chat, model: tiny, replicas: 3000000000}"),
        {},
        [],
        2,
        "services[0].replicas",
        "less than or equal to 2147483647",
    ),
    (
        "stabilization > 3600",
        sub(SVC, "{name: chat, model: tiny, autoscaling: {maxReplicas: 2, signal: cpu, cooldownSeconds: 7200}}"),
        {},
        [],
        2,
        "services[0].autoscaling",
        "exceeds 3600",
    ),
    (
        "router named like a service",
        sub(SVC, SVC + ROUTER.format(name="chat", ext="")),
        {},
        [],
        2,
        "routers[0]",
        "also by services[0]",
    ),
    (
        "<router>-external named like a service",
        sub(SVC, SVC + "\n    - {name: gw-external, model: tiny}" + ROUTER.format(name="gw", ext=EXTERNAL)),
        {},
        [],
        2,
        "routers[0]",
        "also by services[1]",
    ),
    (
        "<host>-metal-agent named like a service",
        sub(SVC, SVC + "\n    - " + METAL_SVC + "\n    - {name: m1-metal-agent, model: tiny}", sub(SITE, METAL)),
        {},
        [],
        2,
        "site.metalHosts[0]",
        "also by services[2]",
    ),
    (
        "object over etcd's limit",
        sub(SVC, "{name: chat, model: tiny, env: {BIG: '" + "x" * (1600 << 10) + "'}}"),
        {},
        [],
        2,
        "services[0]",
        "over etcd's 1536 KiB limit",
    ),
    # unclear messages before
    (
        "union tag in path",
        sub(SVC, SVC + ROUTER.format(name="gw", ext="").replace("name: a,", "name: A_B,").replace("[a]", "[A_B]")),
        {},
        [],
        2,
        "routers[0].backends[0].name",
        "DNS-1035",
    ),
    ("undecodable file", BASE.encode() + b"  llmkube:x: caf\xe9\n", {}, [], 2, "Pulumi.s.yaml:7", "not UTF-8"),
    (
        "circular alias",
        BASE + "  llmkube:x: &a [1, *a]\n",
        {},
        [],
        2,
        "Pulumi.s.yaml:7:21 config.llmkube:x[1]",
        "circular alias, anchored at config.llmkube:x",
    ),
    (
        "metal host by position",
        sub(SVC, METAL_SVC[:-1] + ", hosts: [m9]}", sub(SITE, METAL)),
        {},
        [],
        2,
        "services[0].hosts",
        "unknown metal host(s) m9",
    ),
    (
        "1 MiB name",
        sub(SVC, "{name: " + "c" * (1 << 20) + ", model: tiny}"),
        {},
        [],
        2,
        "services[0].name",
        "(1048576 characters) must be a DNS-1035 label",
    ),
]


def write(tmp_path, stack, files):
    (tmp_path / "Pulumi.yaml").write_text(PROJECT)
    (tmp_path / "__main__.py").write_text((ROOT / "stacks" / "__main__.py").read_text())
    if isinstance(stack, bytes):
        (tmp_path / "Pulumi.s.yaml").write_bytes(stack)
    else:
        (tmp_path / "Pulumi.s.yaml").write_text(stack)
    for name, text in files.items():
        (tmp_path / name).write_text(text)


@pytest.mark.parametrize("stack, files, args, code, path, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hostile_input(tmp_path, monkeypatch, capsys, stack, files, args, code, path, message):
    write(tmp_path, stack, files)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LLMKUBE_PLAN_TIME_FACTS", "off")
    rc = main(["check", str(tmp_path), "--stack", "s", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert rc == code, err
    if code == 2:
        lines = err.splitlines()
        assert lines[0] == "invalid input:" and all(line.startswith("  ") and ": " in line for line in lines[1:])
        assert any(line.strip().startswith(path) and message in line for line in lines[1:]), err
        assert all(len(line) < 2400 for line in lines)


def test_shell_metacharacters_in_a_source_stay_data(tmp_path, monkeypatch, capsys):
    """`$(id)` in a source is a file name: it reaches the verify step as an argument, not as script text."""
    write(tmp_path, BASE.replace("tiny-Q4_K_M.gguf", "m$(id).gguf"), {})
    monkeypatch.setenv("LLMKUBE_PLAN_TIME_FACTS", "off")
    out = tmp_path / "out"
    assert main(["render", str(tmp_path), "--stack", "s", "--out", str(out)]) == 0
    plan = json.loads((out / "plan.json").read_text())
    deployment = next(r["file"] for r in plan["resources"] if r["type"] == "kubernetes:apps/v1:Deployment")
    text = (out / deployment).read_text()
    script_line = next(line for line in text.splitlines() if "test -s" in line)
    assert "$(id)" not in script_line and "hf://org/tiny-GGUF/m$(id).gguf" in text


def test_a_fleet_file_is_read_like_a_stack_file(tmp_path, monkeypatch, capsys):
    """The fleet definition a stack names (`llmkube:fleet`) gets the same YAML rules and bounds."""
    import shutil

    shutil.copytree(ROOT / "examples" / "fleet", tmp_path / "fleet")
    fleet = tmp_path / "fleet" / "fleet.yaml"
    fleet.write_text(
        fleet.read_text()
        + "\n"
        + "\n".join(
            f"x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * 10)}]" if i else "x0: &x0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"
            for i in range(9)
        )
        + "\n"
    )
    monkeypatch.setenv("LLMKUBE_PLAN_TIME_FACTS", "off")
    assert main(["check", str(tmp_path / "fleet"), "--stack", "dc"]) == 2
    err = capsys.readouterr().err
    assert "llmkube:fleet fleet.yaml:" in err and "expands aliases excessively" in err
