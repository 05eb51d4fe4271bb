"""The manifest YAML emitter reads back as exactly the data it was given."""

from __future__ import annotations

import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from llmkube_iac.render.yaml_emit import dump

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(
        [
            "yes",
            "no",
            "on",
            "off",
            "~",
            "null",
            "1e3",
            "0x10",
            "0o17",
            "12:30",
            "- a",
            "a: b",
            "#x",
            "*a",
            "&a",
            "!t",
            "",
            " lead",
            "trail ",
            "1.0",
            ".5",
            "true",
            "y",
            "N",
        ]
    ),
)
data = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=25,
)


@settings(max_examples=400)
@example({"A\n": None, "b": "x\n", "c": "yes\n"})  # `$` matches before a final newline: plain would lose it
@given(st.dictionaries(st.text(max_size=12), data, min_size=1, max_size=5))
def test_round_trip(value):
    assert yaml.safe_load(dump(value)) == value


def test_nested_keys_are_sorted_and_top_level_kept():
    text = dump({"kind": "X", "apiVersion": "v1", "spec": {"b": 1, "a": [{"z": 1, "y": "2"}]}})
    assert text == 'kind: X\napiVersion: v1\nspec:\n  a:\n  - "y": "2"\n    z: 1\n  b: 1\n'
