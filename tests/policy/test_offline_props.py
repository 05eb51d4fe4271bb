"""The offline evaluator reads the recorded props themselves (no per-evaluation copy): rules must
give the same verdicts as on copies and must leave the records, which become the YAML, untouched."""

from __future__ import annotations

import copy

import pytest

from llmkube_iac.policy import evaluate
from llmkube_iac.policy.crossguard import pack

from .test_rules import CASES

PLANS = [(f"{rule}: {label}", rs) for rule, (good, bad) in CASES.items() for label, rs in good + bad]


@pytest.mark.parametrize("resources", [rs for _, rs in PLANS], ids=[label for label, _ in PLANS])
def test_rules_read_recorded_props_without_changing_them(resources):
    resources = copy.deepcopy(resources)
    for r in resources:
        r.plain_props = False
    on_copies = evaluate(resources)  # not marked plain: every props object is converted first
    for r in resources:
        r.plain_props = True
    before = copy.deepcopy([r.props for r in resources])
    shared = evaluate(resources)
    assert [r.props for r in resources] == before
    assert [p.to_dict() for p in shared] == [p.to_dict() for p in on_copies]
    assert not any(pack._plain_props.get(id(r.props), (None,))[0] is r.props for r in resources)


def test_some_plans_break_rules():
    """The comparison above means something only if some of the plans are refused."""
    assert any(evaluate(copy.deepcopy(rs)) for _, rs in PLANS)
