"""The CrossGuard side: one `pulumi_policy` policy per rule, each a thin adapter over the pure rule.

`policy/__main__.py` (the pack) serves these objects to `pulumi preview --policy-pack policy`; the
offline evaluator (`offline.py`) calls the very same objects in-process. Imports pulumi_policy (the
policy SDK, which itself imports the pulumi SDK): hence its place outside the pure rule modules.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ResourceValidationPolicy,
    StackValidationPolicy,
)

from ..base import Res, Rule, plain, rendered_by_chart
from ..rules import RULES
from ..view import StackView

PACK_NAME = "llmkube"


_plain_props: dict[int, tuple[object, dict]] = {}  # id(props) -> (props, plain copy), bounded below


def _plain_once(props) -> dict:
    """Each resource policy sees the same props object of a resource: convert it once."""
    hit = _plain_props.get(id(props))
    if hit is not None and hit[0] is props:
        return hit[1]
    if len(_plain_props) > 50_000:
        _plain_props.clear()
    copy = plain(props)
    _plain_props[id(props)] = (props, copy)
    return copy


@contextmanager
def trusting_plain(props_objects: Iterable) -> Iterator[None]:
    """While evaluating, rules read these props objects themselves: they are plain already (the offline
    engine's records), so converting them again would copy the whole plan for nothing. Rules never
    mutate props (tests/policy check it), so sharing them is safe; the seeds are dropped afterwards."""
    seeded = [p for p in props_objects if isinstance(p, dict)]
    for p in seeded:
        _plain_props[id(p)] = (p, p)
    try:
        yield
    finally:
        for p in seeded:
            hit = _plain_props.get(id(p))
            if hit is not None and hit[0] is p:
                del _plain_props[id(p)]


def _resource_validate(rule: Rule):
    def validate(args, report_violation):
        if rendered_by_chart(args.urn):  # a chart's third-party object: judged by its add-on's declaration
            return
        parent = getattr(args.opts, "parent", None) if args.opts is not None else None
        res = Res(args.urn, args.resource_type, args.name, _plain_once(args.props), parent)
        for message in rule.check(res, rule.settings(args.get_config())):
            report_violation(message, None)

    validate.__name__ = f"validate_{rule.name.replace('-', '_')}"
    return validate


def _stack_resource(r) -> Res:
    cached = getattr(r, "_llmkube_res", None)  # every stack policy sees the same PolicyResource objects
    if cached is not None:
        return cached
    try:
        props = _plain_once(r.props)
    except Exception:  # noqa: BLE001 — an unknown output during preview: the rest of the stack still counts
        props = {}
    res = Res(r.urn, r.resource_type, r.name, props, r.parent.urn if r.parent is not None else None)
    try:
        r._llmkube_res = res
    except AttributeError:  # a slotted or read-only object: convert again next time
        pass
    return res


_last_view: list = [None, None]  # (the resources, their view): stack policies run one after another


def stack_view(resources) -> StackView:
    """One StackView (specs validated once) shared by every stack policy over the same resources."""
    items = list(resources)
    if (
        _last_view[0] is not None
        and len(_last_view[0]) == len(items)
        and all(a is b for a, b in zip(_last_view[0], items, strict=True))
    ):
        return _last_view[1]
    view = StackView([_stack_resource(r) for r in items])
    _last_view[0], _last_view[1] = items, view
    return view


def _stack_validate(rule: Rule):
    def validate(args, report_violation):
        view = stack_view(args.resources)
        for message, urn in view.blind_spots():
            report_violation(f"{rule.name} cannot judge this plan: {message}", urn)
        for v in rule.check(view, rule.settings(args.get_config())):
            report_violation(v.message, v.urn)

    validate.__name__ = f"validate_{rule.name.replace('-', '_')}"
    return validate


def to_policy(rule: Rule):
    """The pulumi_policy object for one rule (name, description, level, schema, remediation)."""
    common: dict[str, Any] = dict(
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
