"""The recording monitor reads each request's protobuf Struct in one pass (monitor.from_struct): it must
give exactly what `from_wire(json_format.MessageToDict(...))` gives, values, key order and errors."""

from __future__ import annotations

import math

import pytest
from google.protobuf import json_format, struct_pb2
from hypothesis import given, settings
from hypothesis import strategies as st

from llmkube_iac.render.monitor import _SECRET_SIG, _SIG, _UNKNOWN, from_struct, from_wire

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.sampled_from([_UNKNOWN, _SECRET_SIG, "value", "[unknown]"]),
)
keys = st.one_of(st.text(max_size=6), st.sampled_from([_SIG, "value", "urn"]))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=25,
)


def _struct(data: dict) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(data)
    return s


def _expected(s: struct_pb2.Struct):
    return from_wire(json_format.MessageToDict(s))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(keys, values, max_size=6))
def test_one_pass_matches_message_to_dict(data):
    s = _struct(data)
    got, want = from_struct(s), _expected(s)
    assert got == want
    assert repr(got) == repr(want)  # the same types (2 not 2.0) and key order, nested too


def test_secrets_and_references():
    secret = {_SIG: _SECRET_SIG, "value": {"token": "hunter2"}}
    ref = {_SIG: "5cf8f73096256a8f31e491e813e4eb8e", "urn": "urn:x", "value": "the-id"}
    s = _struct({"a": secret, "b": ref, "c": [secret, _UNKNOWN, 2.0, 2.5]})
    assert from_struct(s) == _expected(s)
    assert "hunter2" not in repr(from_struct(s))


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_non_finite_numbers_are_refused_alike(bad):
    s = _struct({"x": {"y": [1, bad]}, "hidden": {_SIG: _SECRET_SIG, "value": bad}})
    with pytest.raises(ValueError) as want:
        _expected(s)
    with pytest.raises(ValueError) as got:
        from_struct(s)
    assert str(got.value) == str(want.value)
