"""Fuzz: mutations of the real stacks' and examples' config through validation and planning.

Whatever the mutation, `load_stack_config` + `plan_stack` (what the Site component runs before it
registers anything) either refuse it with field paths, or produce only objects the API server
accepts. CI runs it derandomized (the "ci" profile in tests/conftest.py).
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from llmkube_iac.plan.stack import plan_stack
from llmkube_iac.spec import SpecError, load_stack_config
from tests.support.fuzz import SEEDS, assert_problems_name_fields, assert_valid_for_the_api_server, mutated_configs


def test_every_seed_is_valid_and_renders_valid_objects():
    assert len(SEEDS) >= 6
    for raw in SEEDS:
        for manifest in plan_stack(load_stack_config(raw)).all_manifests():
            assert_valid_for_the_api_server(manifest)


@settings(max_examples=200, deadline=5000, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(raw=mutated_configs())
def test_mutated_config_is_refused_with_paths_or_plans_valid_objects(raw):
    try:
        plan = plan_stack(load_stack_config(raw))
    except SpecError as err:
        assert_problems_name_fields(err.problems)
        return
    for manifest in plan.all_manifests():
        assert_valid_for_the_api_server(manifest)
