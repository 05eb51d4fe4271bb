"""Turn pydantic errors into one line per problem that names the config field path.

Users see `services[2].model.source: ...`, never a traceback: the CLI prints these and exits 2.
Paths are what the user typed (positions in lists, camelCase keys), never pydantic's internals
(union tags, errors that only echo another one), and no message echoes a huge value back.
"""

from __future__ import annotations

import re

from pydantic import ValidationError

# Tags of the discriminated unions in spec/ (spec.service.ModelRef, spec.router.Backend): pydantic puts
# the chosen member's tag into the location, right after the list index or the `model` field.
UNION_TAGS = frozenset({"by-name", "inline", "local", "peer", "external"})
MAX_MESSAGE = 2000  # characters of one problem's message: a safety net (values are cut where they are echoed)
MAX_PART = 60  # characters of one path segment (a key can be arbitrarily long)
_PLAIN = re.compile(r"^[A-Za-z0-9_-]{1,60}\Z")


def shorten(value: object, limit: int = 60) -> str:
    """`value` as text, cut to `limit` characters with the full length said (for messages)."""
    text = value if isinstance(value, str) else str(value)
    if len(text) <= limit:
        return text
    suffix = f"…({len(text)} characters)"
    return text[: max(limit - len(suffix), 8)] + suffix


class SpecError(ValueError):
    """Invalid declarative input; `problems` are (field path, message) pairs."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = [(shorten(path, 200), shorten(msg, MAX_MESSAGE)) for path, msg in problems]
        super().__init__("\n".join(f"{path}: {msg}" if path else msg for path, msg in self.problems))

    def under(self, prefix: str) -> SpecError:
        """The same problems with their paths re-anchored under `prefix` (e.g. services[2])."""
        return SpecError([(f"{prefix}.{path}" if path else prefix, msg) for path, msg in self.problems])


def field_path(loc: tuple, prefix: str = "") -> str:
    """('services', 2, 'model', 'source') -> 'services[2].model.source'."""
    out = prefix
    previous = None
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in UNION_TAGS and (isinstance(previous, int) or previous == "model"):
            pass  # pydantic adds the chosen union member's tag to the location; users never typed it
        elif part == "[key]":
            out += " (the key)"  # pydantic's marker: the dict key itself is invalid, not its value
        elif _PLAIN.match(str(part)):
            out += ("." if out else "") + str(part)
        else:  # a dict key with spaces, dots or odd characters
            out += f"[{shorten(part, MAX_PART)!r}]"
        previous = part
    return out


def from_validation_error(exc: ValidationError, prefix: str = "") -> SpecError:
    """Collect every problem (pydantic reports them all at once) under readable paths."""
    errors = exc.errors(include_url=False, include_input=False)
    paths = [field_path(tuple(err["loc"]), prefix) for err in errors]
    problems: list[tuple[str, str]] = []
    seen = set()
    for err, path in zip(errors, paths, strict=True):
        if err["type"] == "too_short" and any(p.startswith(path + "[") for p in paths):
            continue  # "at least 1 item after validation": only because an item failed, reported itself
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field (check its spelling; fields are camelCase)"
        elif err["type"] == "missing":
            msg = "required field is missing"
        if (path, msg) not in seen:
            seen.add((path, msg))
            problems.append((path, msg))
    return SpecError(problems)
