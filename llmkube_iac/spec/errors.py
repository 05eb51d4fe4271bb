"""Turn pydantic errors into one line per problem that names the config field path.

Users see `services[2].model.source: ...`, never a traceback: the CLI prints these and exits 2.
"""
from __future__ import annotations

from pydantic import ValidationError

# Tags of the discriminated unions in spec/ (see spec.service.ModelRef).
UNION_TAGS = frozenset({"by-name", "inline"})


class SpecError(ValueError):
    """Invalid declarative input; `problems` are (field path, message) pairs."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("\n".join(f"{path}: {msg}" if path else msg for path, msg in problems))


def field_path(loc: tuple, prefix: str = "") -> str:
    """('services', 2, 'model', 'source') -> 'services[2].model.source'."""
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in UNION_TAGS:
            # pydantic adds the chosen union member's tag to the location; users never typed it
            continue
        else:
            out += ("." if out else "") + str(part)
    return out


def from_validation_error(exc: ValidationError, prefix: str = "") -> SpecError:
    """Collect every problem (pydantic reports them all at once) under readable paths."""
    problems: list[tuple[str, str]] = []
    seen = set()
    for err in exc.errors(include_url=False):
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field (check its spelling; fields are camelCase)"
        elif err["type"] == "missing":
            msg = "required field is missing"
        path = field_path(tuple(err["loc"]), prefix)
        if (path, msg) not in seen:
            seen.add((path, msg))
            problems.append((path, msg))
    return SpecError(problems)
