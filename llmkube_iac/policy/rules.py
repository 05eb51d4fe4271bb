"""The rule registry: one list, in report order. The pack and the offline engine both read it."""
from __future__ import annotations

from . import airgap, capacity, residency, timeouts, workload
from .base import Rule

RULES: tuple[Rule, ...] = (
    *airgap.RULES, *residency.RULES, *capacity.RULES, *workload.RULES, *timeouts.RULES,
)
RULES_BY_NAME = {r.name: r for r in RULES}
