"""The `le` label an objective matches is the one Prometheus stores, for every histogram we read."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmkube_iac.plan.router_config import ROUTER_LATENCY_BUCKETS
from llmkube_iac.plan.slo import le_label
from llmkube_iac.router_hooks import llmkube_metrics
from llmkube_iac.runtimes import RUNTIMES


@pytest.mark.parametrize(
    "value,stored",
    [
        (1, "1.0"),
        (10, "10.0"),
        (0.3, "0.3"),
        (2400, "2400.0"),
        (123456, "123456.0"),
        (1e6, "1e+06"),
        (1234567.5, "1.2345675e+06"),
        (0.0001, "0.0001"),
        (1.5e-05, "1.5e-05"),
        (0.0001 * 1.5, "0.00015000000000000001"),  # a double that is not 0.00015: all its digits
        (-2.5, "-2.5"),
        (0, "0.0"),
    ],
)
def test_le_is_written_in_the_openmetrics_float_form(value, stored):
    assert le_label(value) == stored


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_a_bound_that_is_not_a_number_is_refused(value):
    with pytest.raises(ValueError, match="not a finite number"):
        le_label(value)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_le_reads_back_as_the_same_double(value):
    text = le_label(value)
    assert float(text) == value and ("." in text or "e" in text)


def test_every_declared_bound_has_a_distinct_label():
    for name, rt in RUNTIMES.items():
        labels = [le_label(b) for b in rt.metrics.latency_buckets]
        assert len(set(labels)) == len(labels), name


def test_the_router_exporter_writes_the_labels_the_objectives_match():
    saved = dict(llmkube_metrics._COUNTERS)
    try:
        llmkube_metrics.observe({"zone": "internal", "model_group": "chat", "outcome": "ok", "latency_ms": 1})
        text = llmkube_metrics.render()
    finally:
        llmkube_metrics._COUNTERS.clear()
        llmkube_metrics._COUNTERS.update(saved)
    written = {
        line.split('le="', 1)[1].split('"', 1)[0]
        for line in text.splitlines()
        if line.startswith("llmkube_router_request_seconds_bucket{")
    }
    assert written == {le_label(b) for b in ROUTER_LATENCY_BUCKETS} | {"+Inf"}
