"""Check a policy-pack config (the `--policy-pack-config` / `--policy-config` JSON) before any rule runs.

Why: the Pulumi CLI accepts per rule a level string or an object (`enforcementLevel` plus the
rule's properties) and validates the properties against the rule's schema; a typo in a property
name is accepted there and silently does nothing. Here every rule entry is checked against the
rule's own schema (`Rule.config`, the same one the pack publishes) and unknown rules, unknown
properties and wrong types are refused with the path of the offending value, so a gate that
was meant to be strict cannot quietly fall back to its defaults.
"""

from __future__ import annotations

import json
from typing import Any

from .base import LEVELS
from .rules import RULES_BY_NAME

_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


def _is(value: Any, kind: str) -> bool:
    if kind in ("number", "integer"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        return kind == "number" or isinstance(value, int) or float(value).is_integer()
    return isinstance(value, _TYPES[kind])


def _brief(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:40] + "…"


def check_value(value: Any, schema: dict, path: str) -> list[tuple[str, str]]:
    """Problems of `value` against the JSON-schema subset the rules use (type, enum, items, properties)."""
    kinds = schema.get("type")
    kinds = [kinds] if isinstance(kinds, str) else list(kinds or [])
    if kinds and not any(_is(value, k) for k in kinds):
        return [(path, f"{_brief(value)} is not {' or '.join(kinds)}")]
    if "enum" in schema and value not in schema["enum"]:
        return [(path, f"{_brief(value)} is not one of {', '.join(map(str, schema['enum']))}")]
    problems: list[tuple[str, str]] = []
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            problems += check_value(item, schema["items"], f"{path}[{i}]")
    if isinstance(value, dict) and "properties" in schema:
        known = schema["properties"]
        for key, item in value.items():
            if key not in known:
                problems.append((f"{path}.{key}", f"unknown property (known: {', '.join(known)})"))
            else:
                problems += check_value(item, known[key], f"{path}.{key}")
    return problems


def check_policy_config(config: Any) -> list[tuple[str, str]]:
    """(path, message) for every problem of a whole policy-pack config; empty when it is valid."""
    if not isinstance(config, dict):
        return [("", f"must be a JSON object of rule name -> level or settings, not {_brief(config)}")]
    problems: list[tuple[str, str]] = []
    for name, entry in config.items():
        if name not in RULES_BY_NAME and name != "all":
            problems.append((name, f"unknown rule (rules: {', '.join(RULES_BY_NAME)}, or all)"))
            continue
        if isinstance(entry, str):
            entry = {"enforcementLevel": entry}
        if not isinstance(entry, dict):
            problems.append((name, f"{_brief(entry)} is neither an enforcement level nor an object of settings"))
            continue
        level = entry.get("enforcementLevel")
        if "enforcementLevel" in entry and level not in LEVELS:
            problems.append((f"{name}.enforcementLevel", f"{_brief(level)} is not one of {', '.join(LEVELS)}"))
        schema = {} if name == "all" else RULES_BY_NAME[name].config
        for key, value in entry.items():
            if key == "enforcementLevel":
                continue
            if key not in schema:
                known = ", ".join(["enforcementLevel", *schema])
                problems.append((f"{name}.{key}", f"unknown setting (known: {known})"))
                continue
            problems += check_value(value, schema[key], f"{name}.{key}")
    return problems
