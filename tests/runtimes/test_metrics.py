"""What the runtime table says each runtime exports (`Runtime.metrics`) and what the SLO layer needs of it."""

from __future__ import annotations

import math

import pytest

from llmkube_iac.runtimes import RUNTIMES, RuntimeMetrics, runtime


def test_only_a_runtime_serving_metrics_declares_series():
    for name, rt in RUNTIMES.items():
        declared = [v for v in vars(rt.metrics).values() if v]
        if rt.metrics_path is None:
            assert not declared and rt.queue_metric is None, name
    # Ollama and mlx-lm serve no Prometheus endpoint
    assert runtime("ollama").metrics_path is None and runtime("mlx").metrics_path is None


@pytest.mark.parametrize("name", ["vllm", "tgi", "sglang"])
def test_these_runtimes_can_be_measured_by_objectives(name):
    m = runtime(name).metrics
    assert m.availability and m.latency, name
    assert m.generated_tokens_total and m.running, name


def test_llamacpp_and_generic_cannot():
    for name in ("llamacpp", "generic", "ollama", "mlx"):
        m = runtime(name).metrics
        assert not m.availability and not m.latency, name


def test_tgi_duration_buckets_are_its_routers_geometric_series():
    b = runtime("tgi").metrics.latency_buckets
    assert len(b) == 35
    assert math.isclose(b[0], 0.00015) and math.isclose(b[-1], 0.0001 * 1.5**35)
    assert all(math.isclose(later / earlier, 1.5) for earlier, later in zip(b, b[1:], strict=False))


def test_failures_are_a_selection_or_a_counter_of_their_own():
    assert RuntimeMetrics(requests_total="r_total", errors_selector='code="500"').availability
    assert RuntimeMetrics(requests_total="r_total", errors_total="failed_total").availability
    assert not RuntimeMetrics(requests_total="r_total").availability
    assert not RuntimeMetrics(errors_total="failed_total").availability


@pytest.mark.parametrize("buckets", [(1.0, 0.5), (0.5, 0.5), (0.0, 1.0), (-1.0, 1.0)])
def test_bucket_bounds_must_be_positive_and_increasing(buckets):
    with pytest.raises(ValueError, match="positive and strictly increasing"):
        RuntimeMetrics(latency_histogram="h_seconds", latency_buckets=buckets)
