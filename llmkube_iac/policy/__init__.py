"""Governance: pure rules over the whole plan, served as a CrossGuard pack and evaluated offline.

Layout: `base` (what a rule is and reports), `view` (the plan as stack rules see it), `rules/` (one
module per rule and the registry), shared helpers (`airgap_sites`, `inventory`, `pods`), `report`
(the results table). All of these are pure: no pulumi, no pulumi_policy. `crossguard/` adapts
the rules to pulumi_policy, which imports the pulumi SDK, so it is only loaded when a plan is
evaluated: `evaluate(resources, config)` is what `llmkube-iac render/check` call, and
`policy/__main__.py` at the repository root serves the same pulumi_policy objects to
`pulumi preview --policy-pack policy`.
"""

from .base import PolicyResult, Res, Rule, Violation
from .report import format_table, has_mandatory_violations
from .rules import RULES, RULES_BY_NAME


def evaluate(resources, config=None):
    """Evaluate every rule over RenderedResource records (see crossguard.offline.evaluate)."""
    from .crossguard.offline import evaluate as _evaluate

    return _evaluate(resources, config)


__all__ = [
    "RULES",
    "RULES_BY_NAME",
    "PolicyResult",
    "Res",
    "Rule",
    "Violation",
    "evaluate",
    "format_table",
    "has_mandatory_violations",
]
