"""Fuzz: the Python API (the spec models programs build directly, and `Site`) with hostile arguments.

A program may build specs itself (`InferenceServiceSpec(...)`, `Site(name, {...})`) instead of
going through stack config. Whatever it passes, the answer is a pydantic ValidationError or a
SpecError (both ValueError) whose problems name fields; never a TypeError, an OverflowError or a
RecursionError from deep inside, and nothing is registered when the input is refused.
"""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from llmkube_iac.spec import (
    AcceleratorPool,
    AutoscalingSpec,
    InferenceServiceSpec,
    MetalHost,
    ModelSpec,
    SiteSpec,
    SpecError,
    StackConfig,
)
from llmkube_iac.spec.errors import from_validation_error
from llmkube_iac.spec.router import RouterSpec
from tests.support.fuzz import SEEDS, assert_problems_name_fields, hostile_values

PIECES = [  # (model class, seed objects of that kind)
    (SiteSpec, [s["site"] for s in SEEDS]),
    (ModelSpec, [m for s in SEEDS for m in s.get("models", [])]),
    (InferenceServiceSpec, [v for s in SEEDS for v in s.get("services", [])]),
    (RouterSpec, [r for s in SEEDS for r in s.get("routers", [])]),
    (AcceleratorPool, [p for s in SEEDS for p in s["site"].get("accelerators", [])]),
    (MetalHost, [h for s in SEEDS for h in s["site"].get("metalHosts", [])]),
    (AutoscalingSpec, [v["autoscaling"] for s in SEEDS for v in s.get("services", []) if "autoscaling" in v]),
    (StackConfig, SEEDS),
]


@st.composite
def arguments(draw):
    cls, seeds = draw(st.sampled_from(PIECES))
    kwargs = copy.deepcopy(draw(st.sampled_from(seeds))) if seeds and draw(st.booleans()) else {}
    names = list(kwargs) + [f.alias or n for n, f in cls.model_fields.items()] + list(cls.model_fields) + ["bogus"]
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.sampled_from(names))
        if draw(st.integers(0, 4)) == 0:
            kwargs.pop(key, None)
        else:
            kwargs[key] = draw(hostile_values(2))
    return cls, kwargs


@pytest.mark.parametrize("cls, seeds", PIECES, ids=[c.__name__ for c, _ in PIECES])
def test_seed_pieces_build(cls, seeds):
    assert seeds
    for seed in seeds:
        cls.model_validate(seed)


@settings(max_examples=400, deadline=5000, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(args=arguments())
def test_hostile_constructor_arguments_are_validation_errors(args):
    cls, kwargs = args
    try:
        cls.model_validate(kwargs)
    except ValidationError as exc:
        err = from_validation_error(exc)
        assert err.problems and all(len(msg) <= 2000 for _, msg in err.problems)
    try:
        cls(**{k: v for k, v in kwargs.items() if isinstance(k, str) and k.isidentifier()})
    except ValidationError:
        pass


@settings(max_examples=60, deadline=5000, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(site=hostile_values(2), services=hostile_values(2))
def test_site_component_refuses_before_registering(site, services):
    from llmkube_iac.components.site import Site

    with pytest.raises(SpecError) as err:
        Site("fuzz", {"site": site, "services": services, "models": [{"name": "m"}]})  # models[0] lacks a source
    assert_problems_name_fields(err.value.problems)
