"""The offline path: evaluate the pack's own pulumi_policy objects in-process over what the render
engine recorded, constructing ResourceValidationArgs / StackValidationArgs the way the CrossGuard
analyzer does, so `llmkube-iac check` and `pulumi preview --policy-pack` give the same verdicts.
Reporting the results (the table, the exit decision) is pure and lives in `policy/report.py`."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
)

from ..base import ADVISORY, DISABLED, LEVELS, MANDATORY, PolicyResult
from ..rules import RULES_BY_NAME
from .pack import build_policies, stack_view, trusting_plain


def _opts(parent: str | None) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=False,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=parent,
    )


def _provider(r, by_urn: dict) -> PolicyProviderResource | None:
    if not r.provider:
        return None
    urn = r.provider.rsplit("::", 1)[0]
    p = by_urn.get(urn)
    if p is None:
        return None
    return PolicyProviderResource(p.type, p.props, p.urn, p.name)


def _split(config: Mapping[str, Any] | None, name: str) -> tuple[str | None, dict]:
    """(enforcement level or None, properties) from a --policy-pack-config style entry."""
    entry = (config or {}).get(name)
    if isinstance(entry, str):
        return entry, {}
    if isinstance(entry, Mapping):
        return entry.get("enforcementLevel"), {k: v for k, v in entry.items() if k != "enforcementLevel"}
    return None, {}


def resolve_level(policy, config: Mapping[str, Any] | None, pinned_sites: bool) -> str:
    """Config > site-aware default (image-pinning is mandatory when a site is air-gapped or production, see
    SiteSpec.requires_pinned_images) > the rule's default."""
    level, _ = _split(config, policy.name)
    if level is None and "all" in (config or {}):
        level, _ = _split(config, "all")
    if level is None and policy.name == "image-pinning" and pinned_sites:
        level = MANDATORY
    if level is None:
        level = policy.enforcement_level.value if policy.enforcement_level else ADVISORY
    if level not in LEVELS:
        raise ValueError(f"policy config {policy.name}.enforcementLevel: {level!r} is not one of {', '.join(LEVELS)}")
    return level


def _run(result: Any) -> None:
    if result is not None and inspect.isawaitable(result):
        if not _loop_running():
            asyncio.run(result)  # type: ignore[arg-type]  # pulumi_policy's validate: None or a coroutine
        else:
            asyncio.get_event_loop().run_until_complete(result)


def _reporter(found: list[tuple[str, str | None]], own: str | None = None) -> Callable[[str, str | None], None]:
    """A report_violation recording into `found`; a resource policy's findings are its own resource's (`own`)."""

    def report(message: str, urn: str | None = None) -> None:
        found.append((message, own if own is not None else urn))

    return report


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
        return True
    except RuntimeError:
        return False


def evaluate(resources: list, config: dict | None = None) -> list[PolicyResult]:
    """Every violation of every enabled rule over the recorded resources (RenderedResource list)."""
    for key in config or {}:
        if key not in RULES_BY_NAME and key != "all":
            raise ValueError(f"policy config names unknown rule {key!r} (rules: {', '.join(RULES_BY_NAME)})")
    by_urn = {r.urn: r for r in resources}
    with trusting_plain(r.props for r in resources if getattr(r, "plain_props", False)):
        return _evaluate(resources, config, by_urn)


def _evaluate(resources: list, config: dict | None, by_urn: dict) -> list[PolicyResult]:
    stack_resources = _policy_resources(resources, by_urn)
    # the view the stack policies read (built once, specs validated once) also says which sites pin images
    pinned_sites = any(s.spec.requires_pinned_images for s in stack_view(stack_resources).sites.values())
    results: list[PolicyResult] = []
    for policy in build_policies():
        level = resolve_level(policy, config, pinned_sites)
        if level == DISABLED:
            continue
        _, props = _split(config, policy.name)
        found: list[tuple[str, str | None]] = []
        try:
            if isinstance(policy, ResourceValidationPolicy):
                for r in resources:
                    args = ResourceValidationArgs(
                        r.type, r.props, r.urn, r.name, _opts(r.parent), _provider(r, by_urn), props
                    )
                    _run(policy.validate(args, _reporter(found, r.urn)))
            else:
                _run(policy.validate(StackValidationArgs(stack_resources, props), _reporter(found)))
        except Exception as exc:
            raise RuntimeError(f"policy {policy.name} failed: {type(exc).__name__}: {exc}") from exc
        rule = RULES_BY_NAME[policy.name]
        for message, urn in found:
            r = by_urn.get(urn) if urn else None
            results.append(
                PolicyResult(
                    policy.name, level, message, rule.remediation, urn, r.type if r else None, r.name if r else None
                )
            )
    return results


def _policy_resources(resources: list, by_urn: dict) -> list[PolicyResource]:
    out = {
        r.urn: PolicyResource(r.type, r.props, r.urn, r.name, _opts(r.parent), _provider(r, by_urn), None, [], {})
        for r in resources
    }
    for r in resources:
        if r.parent in out:
            out[r.urn].parent = out[r.parent]
    return list(out.values())
