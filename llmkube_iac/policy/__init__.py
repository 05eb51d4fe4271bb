"""Governance: pure rules over the whole plan, served as a CrossGuard pack and evaluated offline.

`evaluate(resources, config)` is what `llmkube-iac render/check` call; `policy/__main__.py` at the
repository root serves the same pulumi_policy objects to `pulumi preview --policy-pack policy`.
"""
from .base import PolicyResult, Res, Rule, Violation
from .rules import RULES, RULES_BY_NAME


def evaluate(resources, config=None):
    """Evaluate every rule over RenderedResource records (see offline.evaluate)."""
    from .offline import evaluate as _evaluate

    return _evaluate(resources, config)


def format_table(results) -> str:
    from .offline import format_table as _format

    return _format(results)


def has_mandatory_violations(results) -> bool:
    return any(getattr(r, "level", None) == "mandatory" for r in results)


__all__ = ["RULES", "RULES_BY_NAME", "PolicyResult", "Res", "Rule", "Violation", "evaluate", "format_table",
           "has_mandatory_violations"]
