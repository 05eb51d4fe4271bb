"""A small block-YAML emitter for manifest data (dicts, lists, str, int, float, bool, None).

Why not yaml.dump: PyYAML's representer is pure Python and was most of the offline render's
write time for thousands of objects. Manifests hold only JSON-shaped data, so every scalar can be
written either plain (when unambiguous) or as a JSON string, which is a valid YAML double-quoted
scalar. `yaml.safe_load(dump(x)) == x` is property-tested.
"""

from __future__ import annotations

import json
import re

# plain scalars that YAML 1.1 (PyYAML) or 1.2 would not read back as the same string
_PLAIN = re.compile(r"^[A-Za-z_/][A-Za-z0-9_./@=+-]*\Z")
_RESERVED = re.compile(
    r"^(y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|"
    r"null|Null|NULL|~|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)|_+)\Z"
)
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_./-]*\Z")


# characters YAML does not allow raw (outside its printable set), and NEL, a line break in YAML 1.1
_NOT_PRINTABLE = re.compile("[\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _quote(text: str) -> str:
    """A YAML double-quoted scalar (JSON's escapes, plus \\u escapes for YAML's non-printables)."""
    return _NOT_PRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(text, ensure_ascii=False))


class Memo:
    """The YAML text of keys and strings already written: manifests repeat a few hundred keys and
    values thousands of times. One per render (writer.write_output), never kept across renders;
    bounded, since names, labels and data are open-ended."""

    __slots__ = ("keys", "strings")
    LIMIT = 8192

    def __init__(self) -> None:
        self.keys: dict[str, str] = {}
        self.strings: dict[str, str] = {}


def _scalar(value, memo: Memo) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return ".nan"
        if value in (float("inf"), float("-inf")):
            return ".inf" if value > 0 else "-.inf"
        text = repr(value)
        mantissa, e, exponent = text.partition("e")
        if e and "." not in mantissa:  # YAML 1.1 floats need a dot (5e-324 would read back as a string)
            text = f"{mantissa}.0e{exponent}"
        return text
    text = str(value)
    out = memo.strings.get(text)
    if out is None:
        plain = _PLAIN.fullmatch(text) and not _RESERVED.fullmatch(text) and not text.endswith(":")
        out = text if plain else _quote(text)
        if len(memo.strings) < Memo.LIMIT:
            memo.strings[text] = out
    return out


def _key(key, memo: Memo) -> str:
    key = str(key)
    text = memo.keys.get(key)
    if text is None:
        text = key if _PLAIN_KEY.fullmatch(key) and not _RESERVED.fullmatch(key) else _quote(key)
        if len(memo.keys) < Memo.LIMIT:
            memo.keys[key] = text
    return text


def _emit(value, indent: str, out: list[str], sort_keys: bool, memo: Memo) -> None:
    """Append lines for a mapping or sequence value that starts on its own line."""
    if isinstance(value, dict):
        for k, v in sorted(value.items()) if sort_keys else value.items():
            if isinstance(v, (dict, list)) and v:
                out.append(f"{indent}{_key(k, memo)}:")
                _emit(v, indent + ("  " if isinstance(v, dict) else ""), out, sort_keys, memo)
            else:
                out.append(f"{indent}{_key(k, memo)}: {_inline(v, memo)}")
    else:
        for item in value:
            if isinstance(item, (dict, list)) and item:
                sub: list[str] = []
                _emit(item, indent + "  ", sub, sort_keys, memo)
                out.append(f"{indent}- {sub[0].lstrip()}")
                out.extend(sub[1:])
            else:
                out.append(f"{indent}- {_inline(item, memo)}")


def _inline(value, memo: Memo) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _scalar(value, memo)


def dump(value, sort_keys: bool = True, memo: Memo | None = None) -> str:
    """YAML text for a dict or list; nested keys sorted (the Pulumi wire keeps no key order), the
    top level in the order given (apiVersion, kind, metadata first for manifests). `memo`: shared by
    the documents of one render."""
    memo = memo if memo is not None else Memo()
    if not isinstance(value, (dict, list)) or not value:
        return _inline(value, memo) + "\n"
    out: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, (dict, list)) and v:
                out.append(f"{_key(k, memo)}:")
                _emit(v, "  " if isinstance(v, dict) else "", out, sort_keys, memo)
            else:
                out.append(f"{_key(k, memo)}: {_inline(v, memo)}")
    else:
        _emit(value, "", out, sort_keys, memo)
    return "\n".join(out) + "\n"
