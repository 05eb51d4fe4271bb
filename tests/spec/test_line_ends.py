"""A value with a trailing newline is not the value: every anchored check refuses it (Python's `$` would
match before a final newline; the checks anchor on the end of the text). Spec fields strip surrounding
whitespace before they are checked (SpecModel), so this guards the checks that see derived values."""

from __future__ import annotations

import pytest

from llmkube_iac.render.yaml_emit import dump
from llmkube_iac.spec import k8s
from llmkube_iac.spec.base import check_country, check_dns_label


@pytest.mark.parametrize(
    "check",
    [
        lambda v: check_dns_label("edge" + v),
        lambda v: check_country("DE" + v),
        lambda v: k8s.raise_if(k8s.check_dns1123_label("edge" + v)),
        lambda v: k8s.raise_if(k8s.check_quantity("4Gi" + v)),
        lambda v: k8s.raise_if(k8s.check_label_value("a" + v)),
        lambda v: k8s.raise_if(k8s.check_env_name("HOME" + v)),
    ],
)
def test_a_trailing_newline_is_refused(check):
    check("")  # the value itself passes
    with pytest.raises(ValueError):
        check("\n")


def test_a_string_ending_in_a_newline_is_not_written_as_a_plain_scalar():
    text = dump({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"k": "abc\n"}})
    assert "k: abc\n" not in text.replace("\r", "")
