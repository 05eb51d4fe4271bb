"""Read Pulumi.yaml and Pulumi.<stack>.yaml with the YAML rules of the Pulumi CLI, within fixed bounds.

Why not `yaml.safe_load`: PyYAML speaks YAML 1.1 (`NO`, `on` and `yes` are booleans, dates become
`datetime.date`, duplicate keys silently overwrite), while the Pulumi CLI decodes these files with
go-yaml v3 and its YAML 1.2 core-schema resolver: `NO` is a string, duplicate keys are an error,
`.inf` cannot travel as a config value (Pulumi re-encodes values as JSON). A render that reads the
file differently from `pulumi up` would check a different stack. PyYAML's composer is also
recursive and expands aliases without limit, so nested brackets or an alias bomb (even under a
key nobody reads) crash or hang it.

So this module walks PyYAML's *event* stream (an iterative parser, libyaml when available) and
builds plain values itself: scalars resolved like go-yaml v3 (`resolve.go`), mapping keys that
must be strings and appear once, aliases shared rather than copied and counted with go-yaml's
expansion budget, a nesting limit, a file size limit and no tags beyond the core schema. Every
problem is a SpecError naming the file, line, column and the YAML path.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import yaml

from ..spec.errors import SpecError, shorten

MAX_BYTES = 16 << 20  # a site's config is a few KiB; this bounds reading and parsing time
MAX_DEPTH = 64  # the deepest config nests about 8 levels; Python's json and pydantic recurse
CORE_TAGS = {"tag:yaml.org,2002:" + t: t for t in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")}
_SHORT = {"!!" + t: t for t in CORE_TAGS.values()}

_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_NULL = {"", "~", "null", "Null", "NULL"}
_SPECIAL_FLOAT = {".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF"}
_MAP_ONLY = set("yYnNtTfFoO~")  # go-yaml: a plain scalar starting with these is a map entry or a string
_YAML_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_TIMESTAMP = re.compile(
    r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(\.[0-9]*)?"
    r"([Zz]|[-+][0-9]{2}:[0-9]{2})?)?\Z"
)
_DIGITS = {2: "01", 8: "01234567", 10: "0123456789", 16: "0123456789abcdefABCDEF"}
INT64 = (-(1 << 63), (1 << 63) - 1)
UINT64_MAX = (1 << 64) - 1


_MERGE = object()  # the `<<` merge key (a plain, untagged `<<`), as opposed to a quoted "<<" key


class _NonFinite(float):
    """`.inf` / `.nan` as go-yaml reads them; refused where a value is built (JSON cannot carry them)."""


def _go_parse_int(text: str) -> int | None:
    """strconv.ParseInt(text, 0, 64) then ParseUint: sign, 0x/0o/0b/0 prefixes, int64/uint64 range."""
    sign, body = 1, text
    if body[:1] in "+-":
        sign, body = (-1 if body[0] == "-" else 1), body[1:]
    base = 10
    if body[:2] in ("0x", "0X"):
        base, body = 16, body[2:]
    elif body[:2] in ("0o", "0O"):
        base, body = 8, body[2:]
    elif body[:2] in ("0b", "0B"):
        base, body = 2, body[2:]
    elif len(body) > 1 and body[0] == "0":
        base, body = 8, body[1:]
    if not body or any(c not in _DIGITS[base] for c in body):
        return None
    value = sign * int(body, base)
    if INT64[0] <= value <= INT64[1] or (sign > 0 and value <= UINT64_MAX):
        return value
    return None


def resolve_plain(text: str) -> Any:
    """The value of an untagged plain scalar under go-yaml v3's resolver (YAML 1.2 core schema)."""
    if text in _BOOL:
        return _BOOL[text]
    if text in _NULL:
        return None
    if text in _SPECIAL_FLOAT:
        return _NonFinite(float(text.replace(".", "")))
    first = text[0]
    if first in _MAP_ONLY:
        return text
    if first == ".":
        try:
            value = float(text)
        except ValueError:
            return text
        return value if math.isfinite(value) else text
    if not (first.isdigit() or first in "+-"):
        return text
    if _TIMESTAMP.match(text):
        return text  # dates and times stay text
    plain = text.replace("_", "")
    value = _go_parse_int(plain)
    if value is not None:
        return value
    if _YAML_FLOAT.match(plain):
        number = float(plain)
        return number if math.isfinite(number) else text  # out of float64 range: go-yaml keeps the text
    return text


class _Frame:
    __slots__ = ("kind", "value", "path", "anchor", "key", "key_mark", "seen", "merges", "count", "mark")

    def __init__(self, kind: str, path: str, anchor: str | None, mark):
        self.kind, self.path, self.anchor, self.mark = kind, path, anchor, mark
        self.value: Any = {} if kind == "map" else []
        self.key: str | None = None
        self.key_mark = None
        self.seen: dict[str, int] = {}
        self.merges: list[dict] = []
        self.count = 1


def _child_path(path: str, key) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    text = shorten(key, 60)
    plain = re.fullmatch(r"[A-Za-z0-9_:-]+", text)
    return (f"{path}.{text}" if path else text) if plain else f"{path}[{text!r}]"


class _Builder:
    """Plain values from PyYAML events, with go-yaml v3's rules and this module's bounds."""

    def __init__(self, source: str):
        self.source = source
        self.stack: list[_Frame] = []
        self.anchors: dict[str, tuple[Any, int, _Frame | None]] = {}
        self.decoded = self.aliased = 0
        self.root: Any = None
        self.done = False
        self.merge_key = False  # the scalar being placed is a plain `<<`

    def fail(self, mark, path: str, message: str) -> SpecError:
        where = f"{self.source}:{mark.line + 1}:{mark.column + 1}" if mark is not None else self.source
        return SpecError([(f"{where} {path}".rstrip(), message)])

    # where the next node goes
    def _slot(self, mark) -> str:
        if not self.stack:
            return ""
        top = self.stack[-1]
        if top.kind == "seq":
            return _child_path(top.path, len(top.value))
        if top.key is None:
            return top.path  # the node is a key
        return _child_path(top.path, "<<" if top.key is _MERGE else top.key)

    def _is_key(self) -> bool:
        return bool(self.stack) and self.stack[-1].kind == "map" and self.stack[-1].key is None

    def _budget(self, count: int, via_alias: bool, mark, path: str) -> None:
        self.decoded += count
        if via_alias:
            self.aliased += count
            # go-yaml v3 decode.go: refuse documents whose decoding is mostly alias expansion
            if self.aliased > 100 and self.decoded > 1000 and self.aliased / self.decoded > _allowed(self.decoded):
                raise self.fail(
                    mark,
                    path,
                    "the document expands aliases excessively (a YAML alias bomb?); "
                    "write the values out instead of nesting aliases",
                )

    def _place(self, value, count: int, mark, path: str) -> None:
        if not self.stack:
            self.root, self.done = value, True
            return
        top = self.stack[-1]
        top.count += count
        if top.kind == "seq":
            top.value.append(value)
            return
        if top.key is None:  # a key
            if self.merge_key:
                top.key, top.key_mark = _MERGE, mark
                return
            if not isinstance(value, str):
                shown = "a mapping or list" if isinstance(value, (dict, list)) else repr(value)
                raise self.fail(mark, path, f"mapping keys must be strings, found {shown}; quote the key")
            if value in top.seen:
                first = top.seen[value]
                raise self.fail(
                    mark,
                    _child_path(top.path, value),
                    f"duplicate key (first defined at line {first}); Pulumi refuses duplicate keys",
                )
            top.seen[value] = mark.line + 1
            top.key, top.key_mark = value, mark
            return
        if top.key is _MERGE:
            sources = value if isinstance(value, list) else [value]
            if not all(isinstance(s, dict) for s in sources):
                raise self.fail(mark, path, "a merge key (<<) takes a mapping or a list of mappings")
            top.merges.extend(sources)
        else:
            top.value[top.key] = value
        top.key = None

    def event(self, ev) -> None:
        mark = ev.start_mark
        if isinstance(ev, (yaml.StreamStartEvent, yaml.StreamEndEvent, yaml.DocumentEndEvent)):
            return
        if isinstance(ev, yaml.DocumentStartEvent):
            if self.done:
                raise self.fail(mark, "", "more than one YAML document; Pulumi reads only the first: remove '---'")
            return
        path = self._slot(mark)
        is_key = self._is_key()
        if isinstance(ev, yaml.AliasEvent):
            if ev.anchor not in self.anchors:
                raise self.fail(mark, path, f"alias *{ev.anchor} names no anchor defined before it")
            value, count, open_frame = self.anchors[ev.anchor]
            if open_frame is not None and open_frame in self.stack:
                raise self.fail(
                    mark,
                    path,
                    f"alias *{ev.anchor} refers to the node that contains it (a circular "
                    f"alias, anchored at {open_frame.path or 'the document root'})",
                )
            self.merge_key = False
            self._budget(count, True, mark, path)
            self._place(value, count, mark, path)
            return
        tag = self._tag(ev, mark, path)
        if isinstance(ev, yaml.ScalarEvent):
            value = self._scalar(ev, tag, mark, path)
            if isinstance(value, _NonFinite):
                raise self.fail(
                    mark,
                    path,
                    f"{ev.value} is not a finite number; Pulumi passes config as JSON, "
                    "which has no infinity or NaN: write a finite number",
                )
            self.merge_key = is_key and ev.value == "<<" and not ev.style and tag is None
            if ev.anchor:
                self.anchors[ev.anchor] = (value, 1, None)
            self._budget(1, False, mark, path)
            self._place(value, 1, mark, path)
            return
        if isinstance(ev, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            if is_key:
                raise self.fail(mark, path, "mapping keys must be strings, found a mapping or list; quote the key")
            if len(self.stack) >= MAX_DEPTH:
                raise self.fail(mark, path, f"nested deeper than {MAX_DEPTH} levels; config is never this deep")
            frame = _Frame("map" if isinstance(ev, yaml.MappingStartEvent) else "seq", path, ev.anchor, mark)
            if ev.anchor:
                self.anchors[ev.anchor] = (frame.value, 0, frame)
            self.stack.append(frame)
            self._budget(1, False, mark, path)
            return
        if isinstance(ev, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            frame = self.stack.pop()
            if frame.kind == "map" and frame.merges:
                explicit = frame.value
                merged: dict = {}
                for source in frame.merges:
                    for k, v in source.items():
                        merged.setdefault(k, v)
                merged.update(explicit)
                frame.value = merged
            if frame.anchor:
                self.anchors[frame.anchor] = (frame.value, frame.count, None)
            self.merge_key = False
            self._place(frame.value, frame.count, frame.mark, frame.path)
            return

    def _tag(self, ev, mark, path: str) -> str | None:
        tag = getattr(ev, "tag", None)
        if tag in (None, "!"):
            return None if tag is None else "str"
        short = CORE_TAGS.get(tag) or _SHORT.get(tag)
        if short is None:
            shown = "!!" + tag[len("tag:yaml.org,2002:") :] if tag.startswith("tag:yaml.org,2002:") else tag
            raise self.fail(
                mark,
                path,
                f"YAML tag {shorten(shown, 40)} is not supported; config takes plain values "
                "(strings, numbers, booleans, lists and mappings)",
            )
        kind = (
            "map"
            if isinstance(ev, yaml.MappingStartEvent)
            else "seq"
            if isinstance(ev, yaml.SequenceStartEvent)
            else "scalar"
        )
        if (short == "map") != (kind == "map") or (short == "seq") != (kind == "seq"):
            raise self.fail(mark, path, f"tag !!{short} does not fit this {kind}")
        return short

    def _scalar(self, ev, tag: str | None, mark, path: str):
        text = ev.value
        if ev.style or tag in ("str", "timestamp"):  # quoted or block scalars are strings
            if tag in (None, "str", "timestamp"):
                return text
        if tag is None:
            return resolve_plain(text)
        value = resolve_plain(text)
        want = {"int": int, "float": float, "bool": bool, "null": type(None)}[tag]
        if tag == "float" and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, want) and not (want is int and isinstance(value, bool)):
            return value
        raise self.fail(mark, path, f"cannot read {shorten(text, 40)!r} as !!{tag}")


def _allowed(decoded: int) -> float:
    low, high = 400_000, 4_000_000
    if decoded <= low:
        return 0.99
    if decoded >= high:
        return 0.10
    return 0.99 - 0.89 * (decoded - low) / (high - low)


def _code(character) -> int:
    return character if isinstance(character, int) else ord(character)  # libyaml gives a number, PyYAML a str


def _loader():
    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def loads(text: str, source: str = "<string>") -> Any:
    """Parse one YAML document the way the Pulumi CLI reads it; SpecError naming source:line:column."""
    builder = _Builder(source)
    try:
        for ev in yaml.parse(text, Loader=_loader()):
            builder.event(ev)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise builder.fail(
            mark, builder._slot(mark) if builder.stack else "", f"not valid YAML: {exc.problem or exc.context}"
        ) from None
    except yaml.reader.ReaderError as exc:  # a control character: no line/column, an offset
        raise SpecError(
            [
                (
                    source,
                    f"not valid YAML: control character #x{_code(exc.character):02x} at offset "
                    f"{exc.position}; remove it or quote it as an escape",
                )
            ]
        ) from None
    except yaml.YAMLError as exc:
        raise SpecError([(source, f"not valid YAML: {shorten(str(exc), 200)}")]) from None
    return builder.root


def load_file(path: Path, label: str | None = None) -> Any:
    """Read and parse a YAML file (UTF-8, an optional BOM stripped like Pulumi does)."""
    label = label or path.name
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise SpecError([(label, f"cannot read {path}: {exc.strerror or exc}")]) from None
    if len(data) > MAX_BYTES:
        raise SpecError([(label, f"larger than {MAX_BYTES >> 20} MiB; a stack's config is a few KiB")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SpecError(
            [
                (
                    f"{label}:{line}",
                    f"not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); save the file as UTF-8",
                )
            ]
        ) from None
    return loads(text, label)
