"""Shared pieces of the property-based fuzzers: seed configs, hostile values, mutations, the contract.

Seeds are the real stacks and examples (YAML stack files, and the dicts the Python examples pass
to `Site`). A mutation changes, deletes, duplicates or adds a value somewhere in a seed; hostile
values are the kinds that broke the tools before (wrong types, huge or non-finite numbers,
unicode, control characters, path tricks, shell metacharacters, YAML 1.1 words).

The contract every fuzzer asserts: input is either accepted, and then every object it renders is
valid for the API server (kubernetes-validate's strict schema plus the name/label/int32/size
limits below, written independently of the code under test), or refused with one problem per
line, each naming a field path; nothing else (no other exception, no traceback).
"""

from __future__ import annotations

import copy
import json
import re
from unittest import mock

import kubernetes_validate
import yaml
from hypothesis import strategies as st

from llmkube_iac.plan.federation import bind_peer_refs
from tests.conftest import ROOT
from tests.support.k8s_schema import CRD_SCHEMAS, validate_manifest

LATEST = (kubernetes_validate.latest_version(),)
TOP_LEVEL = ("site", "models", "services", "routers")


def _yaml_seeds() -> list[dict]:
    out = []
    for path in ("stacks/Pulumi.dev.yaml", "stacks/Pulumi.dc.yaml", "examples/airgapped-edge/Pulumi.edge.yaml"):
        config = yaml.safe_load((ROOT / path).read_text())["config"]
        out.append({k.split(":", 1)[1]: v for k, v in config.items()})
    return out


def _python_seeds() -> list[dict]:
    """The dicts the Python examples hand to Site (their programs run with Site and pulumi stubbed)."""
    out = []
    for main in sorted((ROOT / "examples").glob("*/__main__.py")):
        text = main.read_text()
        if "from llmkube_iac import Site" not in text:
            continue
        text = text.replace("from llmkube_iac import Site", "").replace("import pulumi", "")
        captured: list[dict] = []

        def site(name, config, *args, captured=captured, **kwargs):
            captured.append(config)
            return mock.MagicMock()

        env = {"Site": site, "pulumi": mock.MagicMock(), "__name__": "__main__"}
        exec(compile(text, str(main), "exec"), env)  # noqa: S102 — the repository's own examples
        out += captured
    return out


def _fleet_seeds() -> list[dict]:
    """The fleet example's federating stacks as their programs see them: the site from the fleet
    definition, the services placed there, the routers with peer jurisdictions filled in."""
    from llmkube_iac.plan.placement import place_fleet, site_share
    from llmkube_iac.spec.fleet import load_fleet

    fleet = load_fleet(yaml.safe_load((ROOT / "examples/fleet/fleet.yaml").read_text()))
    placement = place_fleet(fleet)
    out = []
    for stack in ("dc", "edge-l4"):
        config = yaml.safe_load((ROOT / f"examples/fleet/Pulumi.{stack}.yaml").read_text())["config"]
        local = {k.split(":", 1)[1]: v for k, v in config.items() if k.split(":", 1)[1] in TOP_LEVEL}
        out.append(site_share(fleet, placement, stack, local))
    return out


SEEDS = _yaml_seeds() + _python_seeds() + _fleet_seeds()

HOSTILE_TEXT = [
    "",
    " ",
    "Chat",
    "-a",
    "a-",
    "a.b",
    "a_b",
    "a" * 64,
    "x" * 300,
    "ü",
    "名前",
    "😀",
    "a\nb",
    "a\tb",
    "\x00",
    "\x7f",
    "NO",
    "yes",
    "on",
    "null",
    "true",
    "1e400",
    "9" * 400,
    ".inf",
    "-1",
    "0",
    "2024-01-01",
    "../../etc/shadow",
    "/models/../x",
    "$(id)",
    "`id`",
    "'; id; '",
    "a b",
    "%2e%2e",
    "hf://o/r/../x.gguf",
    "hf://o/r/m$(id).gguf",
    "https://h.example:99999/x",
    "https://u:p@h.example/x",
    "pvc://c/../../x",
    "s3://bucket/../x",
    "file:///etc/../x",
    "oci://r.example:0/x:1",
    "10.0.0.0/33",
    "256.1.1.1",
    "lots",
    "16Gi",
    "-4",
    "500m",
    "1e3",
    "DE",
    "ZZ",
    "metal",
    "nvidia",
    "vllm",
    "ollama",
    "queue",
    "cpu",
    "chat",
    "tiny",
    "gw",
    "gw-external",
    "m1-metal-agent",
    "llmkube",
    "kube-system",
]
NUMBERS = [
    0,
    -1,
    1,
    2,
    63,
    64,
    3600,
    3601,
    65535,
    65536,
    2**31 - 1,
    2**31,
    2**53,
    2**53 + 1,
    2**63,
    10**400,
    0.5,
    -0.0,
    1e-300,
    1e308,
    float("inf"),
    float("nan"),
]


def hostile_values(depth: int = 1):
    scalars = st.one_of(
        st.sampled_from(HOSTILE_TEXT),
        st.text(max_size=40),
        st.sampled_from(NUMBERS),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(),
        st.booleans(),
        st.none(),
    )
    if depth <= 0:
        return scalars
    return st.one_of(
        scalars,
        st.lists(hostile_values(depth - 1), max_size=3),
        st.dictionaries(
            st.sampled_from(["name", "x", "source", "vendor", "1", "a b"]), hostile_values(depth - 1), max_size=2
        ),
    )


def _same_type(value):
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int):
        return st.one_of(st.sampled_from([n for n in NUMBERS if isinstance(n, int)]), st.integers(-5, 100_000))
    if isinstance(value, float):
        return st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.sampled_from([0.001, 1e15, 1e300]))
    if isinstance(value, str):
        return st.one_of(
            st.sampled_from(HOSTILE_TEXT),
            st.text(max_size=40),
            st.sampled_from([value + "x" * 60, value.upper(), value + "-" + value, value[:1]]),
        )
    if isinstance(value, list):
        return st.permutations(value) if value else st.just(value)
    return hostile_values()


def _slots(value, out=None):
    """Every (container, key) in a config, so a mutation can reach any field at any depth."""
    out = [] if out is None else out
    if isinstance(value, dict):
        for key, item in value.items():
            out.append((value, key))
            _slots(item, out)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out.append((value, i))
            _slots(item, out)
    return out


@st.composite
def mutated_configs(draw, max_mutations: int = 3) -> dict:
    """A seed config with 1..max_mutations changes anywhere in it."""
    config = copy.deepcopy(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, max_mutations))):
        slots = _slots(config)
        if not slots:
            break
        container, key = draw(st.sampled_from(slots))
        op = draw(
            st.sampled_from(["replace", "replace", "tweak", "tweak", "tweak", "delete", "duplicate", "add", "copy"])
        )
        if op == "tweak":  # a value of the same type: passes type checks, probes the rules behind them
            container[key] = draw(_same_type(container[key]))
        elif op == "replace":
            container[key] = draw(hostile_values())
        elif op == "delete":
            del container[key]
        elif op == "duplicate" and isinstance(container, list):
            container.append(copy.deepcopy(container[key]))
        elif op == "add" and isinstance(container[key], dict):
            container[key][draw(st.sampled_from(["extra", "name", "x y", "replicas", "source"]))] = draw(
                hostile_values(0)
            )
        elif op == "copy":  # another field's value here (names, sources, whole objects)
            other_container, other_key = draw(st.sampled_from(slots))
            container[key] = copy.deepcopy(other_container[other_key])
    return config


# --- the contract --------------------------------------------------------------------------------------

_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_KEY_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
_SHORT_NAMES = {"Service", "Namespace", "Job"}  # DNS labels: at most 63 characters
_INT32 = {
    "replicas",
    "minReplicas",
    "maxReplicas",
    "minReplicaCount",
    "maxReplicaCount",
    "cooldownPeriod",
    "averageUtilization",
    "containerPort",
    "port",
    "stabilizationWindowSeconds",
}


def _labels_ok(labels: dict, where: str) -> None:
    for key, value in labels.items():
        prefix, _, name = key.rpartition("/")
        assert len(name) <= 63 and _LABEL_KEY_NAME.match(name), f"{where}: label key {key!r}"
        assert not prefix or (len(prefix) <= 253 and _SUBDOMAIN.match(prefix)), f"{where}: label prefix {key!r}"
        assert isinstance(value, str) and len(value) <= 63 and _LABEL_VALUE.match(value), f"{where}: {key}={value!r}"


def _numbers_ok(value, where: str) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            if k in _INT32 and isinstance(v, int):
                assert 0 <= v <= 2**31 - 1, f"{where}.{k} = {v}"
            if k in ("labels", "matchLabels", "nodeSelector") and isinstance(v, dict):
                _labels_ok(v, f"{where}.{k}")
            _numbers_ok(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _numbers_ok(v, f"{where}[{i}]")
    elif isinstance(value, float):
        assert value == value and abs(value) != float("inf"), f"{where} = {value}"


def _bound(stack: str, router: str, field: str):
    """What a peer stack's export binds a plan's reference to (plan/federation.py), plausibly."""
    return "https://gw.peer.example/v1" if field == "url" else [{"ipBlock": {"cidr": "10.10.0.10/32"}}]


def assert_valid_for_the_api_server(manifest: dict) -> None:
    """kubernetes-validate (strict, newest schema) plus the limits its schemas do not encode; a router's
    peer references are bound first, as the Router component binds them before registering."""
    if manifest["apiVersion"] == "llmkube.dev/v1":  # a Helm chart reference, registered as helm.v4.Chart
        return
    manifest = bind_peer_refs(manifest, _bound)
    validate_manifest(manifest, versions=LATEST) if (
        manifest["apiVersion"],
        manifest["kind"],
    ) not in CRD_SCHEMAS else validate_manifest(manifest)
    meta = manifest["metadata"]
    where = f"{manifest['kind']} {meta.get('name')!r}"
    name = meta["name"]
    assert len(name) <= (63 if manifest["kind"] in _SHORT_NAMES else 253) and _SUBDOMAIN.match(name), where
    assert len(json.dumps(manifest)) <= 1536 * 1024, f"{where}: over etcd's limit"
    _numbers_ok(manifest, where)


def assert_problems_name_fields(problems, roots=TOP_LEVEL) -> None:
    """A refusal: at least one problem, each with a path under a known root and a bounded message."""
    assert problems
    for path, message in problems:
        assert path and path.split(".")[0].split("[")[0] in roots, (path, message)
        assert message and len(message) <= 2000 and len(path) <= 200, (path, message)


# --- stack files as text (the CLI fuzzer) ----------------------------------------------------------------


def seed_stack_texts() -> list[str]:
    """The stacks' own YAML files, and the Python examples' configs written as stack files."""
    texts = [
        (ROOT / p).read_text()
        for p in ("stacks/Pulumi.dev.yaml", "stacks/Pulumi.dc.yaml", "examples/airgapped-edge/Pulumi.edge.yaml")
    ]
    texts += [
        yaml.safe_dump({"config": {f"llmkube:{k}": v for k, v in raw.items()}}, sort_keys=False)
        for raw in _python_seeds()
    ]
    return texts


YAML_SNIPPETS = [
    ".inf",
    "-.inf",
    ".nan",
    "9" * 400,
    "1e400",
    "0x7fffffffffffffff",
    "0o777",
    "NO",
    "yes",
    "off",
    "~",
    "2024-01-01",
    "!!binary aGVsbG8=",
    "!!python/object/apply:os.system [id]",
    "!Ref x",
    "*undefined",
    "&a [*a]",
    "{secure: v1:AAAA}",
    "[" * 80 + "]" * 80,
    '"\\u0000"',
    '"a\\nb"',
    "'" + "x" * 2000 + "'",
    "{}",
    "[]",
    "null",
    "&x {a: 1}",
    "*x",
    "<<: {a: 1}",
    "'名前'",
    "\t",
    "- - -",
    "{a: 1, a: 2}",
    "? [a]\n  : b",
]


@st.composite
def mutated_stack_texts(draw) -> str:
    """A stack file with 1..3 line-level edits: a value swapped for a YAML oddity, lines deleted,
    duplicated or swapped, the text cut short, a BOM or a second document added."""
    lines = draw(st.sampled_from(seed_stack_texts())).splitlines()
    for _ in range(draw(st.integers(1, 3))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["value", "value", "value", "delete", "duplicate", "swap", "insert", "cut"]))
        if op == "value" and ":" in lines[i]:
            head = lines[i].split(":", 1)[0] if not lines[i].lstrip().startswith("- ") else lines[i].rstrip(":")
            value = draw(st.one_of(st.sampled_from(YAML_SNIPPETS), st.sampled_from(HOSTILE_TEXT).map(json.dumps)))
            lines[i] = f"{head}: {value}"
        elif op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "insert":
            indent = len(lines[i]) - len(lines[i].lstrip())
            lines.insert(
                i,
                " " * indent
                + draw(
                    st.sampled_from(["x: " + s for s in YAML_SNIPPETS] + ["---", "\ufeffa: 1", "llmkube:service: []"])
                ),
            )
        elif op == "cut":
            lines = lines[:i]
    return "\n".join(lines) + "\n"


def as_stack_text(raw: dict) -> str:
    return yaml.safe_dump({"config": {f"llmkube:{k}": v for k, v in raw.items()}}, sort_keys=False, allow_unicode=True)


def stack_files():
    """Stack files mutated as text, or as data (value mutations that still parse)."""
    return st.one_of(mutated_stack_texts(), mutated_configs().map(as_stack_text))
