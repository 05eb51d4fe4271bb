"""Reporting policy results: the table `llmkube-iac render/check` print and the exit decision.

Pure (it reads PolicyResult records only), so the CLI can format results without loading the
CrossGuard adapter that produced them."""

from __future__ import annotations

from collections.abc import Iterable

from .base import MANDATORY, PolicyResult


def has_mandatory_violations(results) -> bool:
    return any(getattr(r, "level", None) == MANDATORY for r in results)


def format_table(results: Iterable[PolicyResult]) -> str:
    """Rule, level, resource, message, and the remediation once per rule: readable in a CI log."""
    results = list(results)
    if not results:
        return "policy: no violations"
    rows = [(r.rule, r.level, _resource(r), r.message) for r in results]
    widths = [max(len(row[i]) for row in rows + [("RULE", "LEVEL", "RESOURCE", "")]) for i in range(3)]
    widths[2] = min(widths[2], 48)
    line = lambda a, b, c, d: f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:<{widths[2]}}  {d}"  # noqa: E731
    out = [
        line("RULE", "LEVEL", "RESOURCE", "MESSAGE"),
        line("-" * widths[0], "-" * widths[1], "-" * widths[2], "-" * 7),
    ]
    shown = set()
    for row, r in zip(rows, results, strict=True):
        out.append(line(*row))
        if r.rule not in shown:
            shown.add(r.rule)
            out.append(line("", "", "", f"fix: {r.remediation}"))
    mandatory = sum(r.level == MANDATORY for r in results)
    out.append(f"policy: {len(results)} violation(s), {mandatory} mandatory")
    return "\n".join(out)


def _resource(r: PolicyResult) -> str:
    if not r.urn:
        return "(stack)"
    name = r.resource_name or r.urn.rsplit("::", 1)[-1]
    kind = (r.resource_type or "").rsplit(":", 1)[-1]
    return f"{kind} {name}".strip()[:48]
