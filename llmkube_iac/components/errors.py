"""Invalid input as the Pulumi engine reports it: one message, no traceback.

Why: the Python language host prints a `pulumi.RunError` as its message and any other exception as
"Program failed with an unhandled exception" with a traceback. Invalid input (a SpecError naming
the field and the fix) must read the same under `pulumi up` as under `llmkube-iac check`, so what a
component or the program raises for it is both a SpecError (the offline engine's exit 2) and a
RunError (the language host's clean error).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

import pulumi
from pydantic import ValidationError

from ..spec.errors import SpecError, from_validation_error

F = TypeVar("F", bound=Callable)


class InvalidInput(SpecError, pulumi.RunError):
    """A SpecError the engine prints as its message."""


def as_invalid_input(err: SpecError) -> InvalidInput:
    return err if isinstance(err, InvalidInput) else InvalidInput(err.problems)


def reports_invalid_input(func: F) -> F:
    """Re-raise a SpecError (or a spec model's ValidationError) from `func` (a component's constructor, the
    program body) as InvalidInput."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except SpecError as err:
            raise as_invalid_input(err) from None
        except ValidationError as err:  # a spec model built from the caller's arguments
            raise as_invalid_input(from_validation_error(err, err.title)) from None

    return wrapper  # type: ignore[return-value]
