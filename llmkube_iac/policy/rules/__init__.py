"""The rule registry: one module per rule, named after it, and one list in report order.

The CrossGuard pack and the offline evaluator both read `RULES`; the order here is the order of
the report and of plan.json. Each module exports its `RULE`; to add a rule, add its module and
list it here. Pure: no module in this package imports pulumi or pulumi_policy."""

from __future__ import annotations

from ..base import Rule
from . import (
    airgap_charts,
    airgap_egress,
    airgap_images,
    airgap_model_sources,
    capacity,
    data_residency,
    gpu_fit,
    gpu_fit_unknown,
    image_pinning,
    model_revision_pinning,
    router_tls,
    secrets_hygiene,
    security_baseline,
    slo_metrics,
    timeout_nesting,
)

RULES: tuple[Rule, ...] = tuple(
    m.RULE
    for m in (
        airgap_images,
        airgap_model_sources,
        model_revision_pinning,
        airgap_charts,
        airgap_egress,
        data_residency,
        capacity,
        gpu_fit,
        gpu_fit_unknown,
        security_baseline,
        image_pinning,
        secrets_hygiene,
        router_tls,
        timeout_nesting,
        slo_metrics,
    )
)
RULES_BY_NAME = {r.name: r for r in RULES}
