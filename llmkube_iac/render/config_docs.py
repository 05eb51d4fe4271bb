"""docs/configuration.md, generated from the JSON Schema of the stack configuration.

Why generated: the pydantic models in `spec/` own every key, its type, default, constraints and
description; a hand-written reference would drift from them. `llmkube-iac schema --markdown`
prints the page and a test fails when the committed copy differs. Pure and deterministic: the
same models always give the same bytes (no dates, no paths, no set ordering).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

REGENERATE = "python3 -m llmkube_iac schema --markdown > docs/configuration.md"
STACK_TITLE = (
    "llmkube stack configuration (keys llmkube:site, llmkube:models, llmkube:services, llmkube:routers, llmkube:teams)"
)
_REF = "#/$defs/"

_INTRO = """\
# Configuration reference

A site's stack declares everything under four keys of its `Pulumi.<stack>.yaml`; a Python program
passes the same structure (without the `llmkube:` prefix) to `Site(...)`. Keys are camelCase,
unknown keys are refused, and every problem is reported with its field path
(`services[2].model.source: ...`): `llmkube-iac render` and `check` then exit 2.
`llmkube-iac schema` prints the JSON Schema this page is generated from.

```yaml
config:
  llmkube:site:
    name: dev
    jurisdiction: DE
  llmkube:models:
    - name: qwen3-5-0-8b
      source: hf://Qwen/Qwen3.5-0.8B-GGUF/Qwen3.5-0.8B-Q4_K_M.gguf
  llmkube:services:
    - name: chat
      model: qwen3-5-0-8b
      contextSize: 8192
```

In the tables, *unset* means the key may be left out and nothing is assumed for it unless the
description says otherwise; `required` keys have no default.
"""

_METAL_INTRO = """\
## Appendix: the metal-agent's desired state

Not part of a stack: the planner writes this document, for each metal host, into the ConfigMap
`<host>-metal-desired` (data key `desired-state.json`), and `llmkube-metal-agent` on that host
reads it with the same model (`llmkube_iac/spec/metal.py`). Shown here for reading what a host
was asked to run (`kubectl get configmap <host>-metal-desired -o yaml`).
"""
_FLEET_INTRO = """\
## Appendix: the fleet definition

A stack with `llmkube:fleet` (the definition below, or the path of a YAML file holding it) applies
its site's share of a fleet: `llmkube:fleetSite` names the site (default: the stack's name; `"*"`:
every site from one program), whose `llmkube:site` comes from the fleet (the stack may not set it),
and fleet services are placed on sites by the planner (docs/fleet.md, Placement). The stack's own
`llmkube:models`, `llmkube:services` and `llmkube:routers` are added to its share.
"""


def stack_schema() -> dict:
    """The JSON Schema of a stack configuration (what `llmkube-iac schema` prints)."""
    from ..spec import StackConfig

    schema = StackConfig.model_json_schema(by_alias=True)
    schema["title"] = STACK_TITLE
    return schema


def desired_state_schema() -> dict:
    """The JSON Schema of a metal host's desired state (the ConfigMap contract)."""
    from ..spec.metal import DesiredState

    return DesiredState.model_json_schema(by_alias=True)


def fleet_schema() -> dict:
    """The JSON Schema of a fleet definition (`llmkube:fleet`)."""
    from ..spec.fleet import FleetSpec

    return FleetSpec.model_json_schema(by_alias=True)


def configuration_markdown() -> str:
    """The whole docs/configuration.md."""
    stack = _Doc(stack_schema(), anchor_prefix="")
    metal = _Doc(desired_state_schema(), anchor_prefix="metal-")
    fleet = _Doc(fleet_schema(), anchor_prefix="fleet-")
    parts = [
        f"<!-- Generated from the spec models (llmkube_iac/spec/): do not edit. Regenerate with:\n"
        f"     {REGENERATE} -->\n",
        _INTRO,
        stack.contents(),
        stack.root_section(
            "## The stack",
            "The keys of `Pulumi.<stack>.yaml` (each under the `llmkube:` namespace).",
            key_prefix="llmkube:",
        ),
        *stack.sections(),
        _METAL_INTRO,
        metal.root_section("### `desired-state.json`", None, key_prefix=""),
        *metal.sections(level="###"),
        _FLEET_INTRO,
        fleet.root_section("### The fleet file", None, key_prefix=""),
        *fleet.sections(level="###"),
    ]
    return "\n".join(p.rstrip("\n") + "\n" for p in parts)


@dataclass
class _Doc:
    """One schema: its definitions, where each is used, and their Markdown sections."""

    schema: dict
    anchor_prefix: str
    order: list[str] = field(default_factory=list)  # definitions in first-use order (depth first)
    paths: dict[str, list[str]] = field(default_factory=dict)  # definition -> config paths using it

    def __post_init__(self) -> None:
        self.defs = self.schema.get("$defs", {})
        self._walk(self.schema, "", set())

    # ---- where each definition is used
    def _walk(self, obj: dict, path: str, stack: set[str]) -> None:
        for key, prop in obj.get("properties", {}).items():
            for name, suffix in _refs(prop):
                where = f"{path}.{key}{suffix}" if path else f"{key}{suffix}"
                self.paths.setdefault(name, [])
                if where not in self.paths[name]:
                    self.paths[name].append(where)
                if name not in self.order:
                    self.order.append(name)
                if name not in stack:
                    self._walk(self.defs[name], where, stack | {name})

    def anchor(self, name: str) -> str:
        return self.anchor_prefix + name.lower()

    # ---- rendering
    def contents(self) -> str:
        lines = ["## Contents", "", "- [The stack](#the-stack)"]
        for name in self.order:
            lines.append(f"  - [`{self.paths[name][0]}`](#{self.anchor(name)}) ({name})")
        lines.append("- [Appendix: the metal-agent's desired state](#appendix-the-metal-agents-desired-state)")
        return "\n".join(lines) + "\n"

    def root_section(self, heading: str, text: str | None, key_prefix: str) -> str:
        out = [heading, ""]
        desc = text or self.schema.get("description")
        if desc:
            out += [_markdown(desc), ""]
        out += _table(self, self.schema, key_prefix)
        return "\n".join(out) + "\n"

    def sections(self, level: str = "##") -> list[str]:
        out = []
        for name in self.order:
            definition = self.defs[name]
            first, *others = self.paths[name]
            lines = [f'{level} <a id="{self.anchor(name)}"></a>`{first}` ({name})', ""]
            if others:
                lines += ["Also at " + ", ".join(f"`{p}`" for p in others) + ".", ""]
            if definition.get("description"):
                lines += [_markdown(definition["description"].strip()), ""]
            lines += _table(self, definition, "")
            out.append("\n".join(lines) + "\n")
        return out

    def type_of(self, prop: dict) -> str:
        if "$ref" in prop:
            name = prop["$ref"].removeprefix(_REF)
            return f"[{name}](#{self.anchor(name)})"
        for union in ("anyOf", "oneOf"):
            if union in prop:
                members = [self.type_of(p) for p in prop[union] if p.get("type") != "null"]
                return " or ".join(members) or "null"
        if "enum" in prop:
            return "one of " + ", ".join(f"`{_value(v)}`" for v in prop["enum"])
        if "const" in prop:
            return f"`{_value(prop['const'])}`"
        kind = prop.get("type")
        if isinstance(kind, list):
            base = " or ".join(k for k in kind if k != "null")
        elif kind == "array":
            base = f"list of {self.type_of(prop.get('items', {}))}"
        elif kind == "object" and isinstance(prop.get("additionalProperties"), dict):
            base = f"map of string to {self.type_of(prop['additionalProperties'])}"
        else:
            base = kind or "any"
        limits = _constraints(prop)
        return f"{base} ({', '.join(limits)})" if limits else base


def _refs(prop: dict, suffix: str = "") -> list[tuple[str, str]]:
    """(definition name, path suffix) for every definition a property schema uses."""
    if "$ref" in prop:
        return [(prop["$ref"].removeprefix(_REF), suffix)]
    out: list[tuple[str, str]] = []
    for union in ("anyOf", "oneOf"):
        for member in prop.get(union, []):
            out += _refs(member, suffix)
    if prop.get("type") == "array" and isinstance(prop.get("items"), dict):
        out += _refs(prop["items"], suffix + "[]")
    if isinstance(prop.get("additionalProperties"), dict):
        out += _refs(prop["additionalProperties"], suffix + ".*")
    return out


def _constraints(prop: dict) -> list[str]:
    out = []
    for key, sign in (("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤"), ("exclusiveMaximum", "<")):
        if key in prop:
            out.append(f"{sign} {_value(prop[key])}")
    if "minLength" in prop or "maxLength" in prop:
        out.append(
            f"{prop.get('minLength', 0)} to {prop['maxLength']} characters"
            if "maxLength" in prop
            else f"at least {prop['minLength']} characters"
        )
    if "minItems" in prop:
        out.append(f"at least {prop['minItems']} item{'s' if prop['minItems'] != 1 else ''}")
    if "maxItems" in prop:
        out.append(f"at most {prop['maxItems']} items")
    if "pattern" in prop:
        out.append(f"matching `{prop['pattern']}`")
    return out


def _value(value) -> str:
    """A value as a config file spells it: strings bare, everything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def _default(prop: dict, required: bool) -> str:
    if required:
        return "required"
    if "default" not in prop:  # a default factory: an empty collection
        kinds = {prop.get("type")} | {p.get("type") for p in prop.get("anyOf", [])}
        return "`{}`" if "object" in kinds else "`[]`" if "array" in kinds else "computed"
    value = prop["default"]
    if value is None:
        return "unset"
    if isinstance(value, dict) and _refs(prop):
        return "each field's default"
    if isinstance(value, str):
        return f"`{value}`" if value else '`""`'
    return f"`{json.dumps(value, ensure_ascii=False)}`"


def _markdown(text: str) -> str:
    """Prose as Markdown shows it literally: `<name>` is no HTML tag, `*` no emphasis (code spans kept)."""
    parts = text.split("`")
    for i in range(0, len(parts), 2):  # outside code spans
        parts[i] = parts[i].replace("<", "&lt;").replace(">", "&gt;").replace("*", "\\*")
    return "`".join(parts)


def _cell(text: str) -> str:
    return _markdown(" ".join(text.split())).replace("|", "\\|")


def _table(doc: _Doc, obj: dict, key_prefix: str) -> list[str]:
    required = set(obj.get("required", []))
    rows = ["| key | type | default | description |", "|---|---|---|---|"]
    for key, prop in obj.get("properties", {}).items():
        cells = (
            f"`{key_prefix}{key}`",
            _cell(doc.type_of(prop)),
            _cell(_default(prop, key in required)),
            _cell(prop.get("description", "")),
        )
        rows.append("| " + " | ".join(cells) + " |")
    return rows + [""]
