"""The CrossGuard side: one `pulumi_policy` policy per rule, each a thin adapter over the pure rule.

`policy/__main__.py` (the pack) serves these objects to `pulumi preview --policy-pack policy`; the
offline engine (`offline.py`) calls the very same objects in-process. Imports pulumi_policy (the
policy SDK), never the pulumi SDK.
"""
from __future__ import annotations

from functools import lru_cache

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ResourceValidationPolicy,
    StackValidationPolicy,
)

from .base import Res, Rule, plain
from .rules import RULES
from .view import StackView

PACK_NAME = "llmkube"


def _resource_validate(rule: Rule):
    def validate(args, report_violation):
        parent = getattr(args.opts, "parent", None) if args.opts is not None else None
        res = Res(args.urn, args.resource_type, args.name, plain(args.props), parent)
        for message in rule.check(res, rule.settings(args.get_config())):
            report_violation(message, None)
    validate.__name__ = f"validate_{rule.name.replace('-', '_')}"
    return validate


def _stack_resource(r) -> Res:
    try:
        props = plain(r.props)
    except Exception:  # noqa: BLE001 — an unknown output during preview: the rest of the stack still counts
        props = {}
    return Res(r.urn, r.resource_type, r.name, props, r.parent.urn if r.parent is not None else None)


def _stack_validate(rule: Rule):
    def validate(args, report_violation):
        view = StackView([_stack_resource(r) for r in args.resources])
        for message, urn in view.blind_spots():
            report_violation(f"{rule.name} cannot judge this plan: {message}", urn)
        for v in rule.check(view, rule.settings(args.get_config())):
            report_violation(v.message, v.urn)
    validate.__name__ = f"validate_{rule.name.replace('-', '_')}"
    return validate


def to_policy(rule: Rule):
    """The pulumi_policy object for one rule (name, description, level, schema, remediation)."""
    common = dict(
        name=rule.name,
        description=rule.description,
        enforcement_level=EnforcementLevel(rule.level),
        config_schema=PolicyConfigSchema(properties=dict(rule.config)) if rule.config else None,
        remediation_steps=rule.remediation,
        tags=["llmkube"],
    )
    if rule.scope == "resource":
        return ResourceValidationPolicy(validate=_resource_validate(rule), **common)
    return StackValidationPolicy(validate=_stack_validate(rule), **common)


@lru_cache(maxsize=1)
def build_policies() -> tuple:
    """Every rule as a pulumi_policy Policy, built once per process."""
    return tuple(to_policy(r) for r in RULES)
