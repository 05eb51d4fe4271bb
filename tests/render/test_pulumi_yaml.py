"""Stack files are read with the Pulumi CLI's YAML rules (go-yaml v3, YAML 1.2 core schema), within bounds."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from llmkube_iac.render.pulumi_yaml import MAX_DEPTH, load_file, loads, resolve_plain
from llmkube_iac.spec.errors import SpecError

# plain scalar -> value, as go-yaml v3 resolves it (resolve.go); YAML 1.1 words stay strings
RESOLVED = [
    ("NO", "NO"),
    ("yes", "yes"),
    ("on", "on"),
    ("Off", "Off"),
    ("y", "y"),
    ("true", True),
    ("True", True),
    ("FALSE", False),
    ("~", None),
    ("null", None),
    ("Null", None),
    ("1", 1),
    ("+1", 1),
    ("-12", -12),
    ("1_000", 1000),
    ("0x1F", 31),
    ("0o17", 15),
    ("0777", 511),
    ("0b101", 5),
    ("08", 8.0),
    ("1e3", 1000.0),
    ("1.", 1.0),
    (".5", 0.5),
    ("3.14", 3.14),
    ("18446744073709551615", 2**64 - 1),  # uint64
    ("9" * 400, "9" * 400),
    ("1e400", "1e400"),  # beyond float64: go-yaml keeps the text
    ("2024-01-01", "2024-01-01"),
    ("2024-01-01T10:00:00Z", "2024-01-01T10:00:00Z"),  # dates stay text
    ("12:30", "12:30"),
    ("1.2.3", "1.2.3"),
    ("+inf", "+inf"),
    ("inf", "inf"),
]


@pytest.mark.parametrize("text, value", RESOLVED)
def test_plain_scalars_resolve_like_go_yaml_v3(text, value):
    got = resolve_plain(text)
    assert got == value and type(got) is type(value)


# (document, where the error points, what it says): one line per hostile or malformed input
REFUSED = [
    ("a: 1\na: 2\n", "f.yaml:2:1 a", "duplicate key (first defined at line 1)"),
    ("5: x\n", "f.yaml:1:1", "mapping keys must be strings, found 5"),
    ("a: {true: 1}\n", "f.yaml:1:5 a", "mapping keys must be strings, found True"),
    ("? [a]\n: 1\n", "f.yaml:1:3", "mapping keys must be strings"),
    ("a: [1, .inf]\n", "f.yaml:1:8 a[1]", "not a finite number"),
    ("a: .nan\n", "f.yaml:1:4 a", "not a finite number"),
    ("a: !!binary aGVsbG8=\n", "f.yaml:1:4 a", "YAML tag !!binary is not supported"),
    ("a: !!python/object/apply:os.system [id]\n", "f.yaml:1:4 a", "is not supported"),
    ("a: !Ref x\n", "f.yaml:1:4 a", "YAML tag !Ref is not supported"),
    ("a: !!int abc\n", "f.yaml:1:4 a", "cannot read 'abc' as !!int"),
    ("a: &x [1, *x]\n", "f.yaml:1:11 a[1]", "circular alias, anchored at a"),
    ("a: *nowhere\n", "f.yaml:1:4 a", "names no anchor defined before it"),
    ("a: 1\n---\nb: 2\n", "f.yaml:2:1", "more than one YAML document"),
    ("a: [1\n", "f.yaml:2:1 a[1]", "not valid YAML"),
    ("a:\n\t- 1\n", "f.yaml:2:1 a", "not valid YAML"),
    ("a: \x07\n", "f.yaml", "control character"),
    ("a: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n", "f.yaml:1:", f"nested deeper than {MAX_DEPTH}"),
    ("d: {<<: [1, 2]}\n", "f.yaml:1:9 d['<<']", "a merge key (<<) takes a mapping"),
]


@pytest.mark.parametrize("text, where, message", REFUSED)
def test_hostile_documents_are_refused_with_file_line_and_path(text, where, message):
    with pytest.raises(SpecError) as err:
        loads(text, "f.yaml")
    ((path, msg),) = err.value.problems
    assert path.startswith(where) and message in msg, (path, msg)


def test_merge_keys_anchors_and_plain_values():
    doc = loads("base: &b {x: 1, y: 2}\nd: {<<: *b, y: 3}\nq: {'<<': 1}\nl: [*b, *b]\ne:\n", "f.yaml")
    assert doc == {
        "base": {"x": 1, "y": 2},
        "d": {"x": 1, "y": 3},
        "q": {"<<": 1},
        "l": [{"x": 1, "y": 2}] * 2,
        "e": None,
    }
    assert loads("", "f.yaml") is None


def bomb(levels: int) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, levels)]
    return "config:\n  llmkube:unused:\n" + "".join(f"    {line}\n" for line in lines)


def test_alias_bomb_is_refused_fast_in_bounded_memory():
    """10^9 nodes if expanded, under a key nobody reads: refused in milliseconds, nothing expanded."""
    tracemalloc.start()
    t0 = time.perf_counter()
    with pytest.raises(SpecError, match="expands aliases excessively"):
        loads(bomb(9), "Pulumi.s.yaml")
    elapsed = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert elapsed < 5 and peak < 16 << 20  # a hang guard: it takes about a millisecond


def test_moderate_alias_reuse_is_fine():
    text = "base: &b {image: x, cpu: '1'}\n" + "".join(f"s{i}: *b\n" for i in range(500))
    assert len(loads(text, "f.yaml")) == 501


def test_files_are_utf8_with_an_optional_bom_and_bounded(tmp_path):
    p = tmp_path / "Pulumi.s.yaml"
    p.write_bytes(b"\xef\xbb\xbfconfig:\n  llmkube:site: {name: s}\n")
    assert load_file(p) == {"config": {"llmkube:site": {"name": "s"}}}
    p.write_bytes(b"config:\n  a: caf\xe9\n")
    with pytest.raises(SpecError, match=r"not UTF-8 \(byte 0xe9 at offset 16\)") as err:
        load_file(p)
    assert err.value.problems[0][0] == "Pulumi.s.yaml:2"
    p.write_bytes(b"a: " + b"x" * (17 << 20))
    with pytest.raises(SpecError, match="larger than 16 MiB"):
        load_file(p)
