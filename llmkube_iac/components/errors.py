"""Invalid input as the Pulumi engine reports it: one message, no traceback.

Why: the Python language host prints a `pulumi.RunError` as its message and any other exception as
"Program failed with an unhandled exception" with a traceback. Invalid input (a SpecError naming
the field and the fix) must read the same under `pulumi up` as under `llmkube-iac check`, so what a
component or the program raises for it is both a SpecError (the offline engine's exit 2) and a
RunError (the language host's clean error).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pulumi
from pydantic import ValidationError

from ..spec.errors import SpecError, from_validation_error


class InvalidInput(SpecError, pulumi.RunError):
    """A SpecError the engine prints as its message."""


def as_invalid_input(err: SpecError) -> InvalidInput:
    return err if isinstance(err, InvalidInput) else InvalidInput(err.problems)


@contextmanager
def invalid_input() -> Iterator[None]:
    """Re-raise a SpecError (or a spec model's ValidationError) raised in the block (a component's constructor,
    the program body) as InvalidInput. A `with` block, not a decorator: the SDK walks the Python stack for every
    resource it registers, and a wrapper frame around each constructor is paid for every child resource."""
    try:
        yield
    except SpecError as err:
        raise as_invalid_input(err) from None
    except ValidationError as err:  # a spec model built from the caller's arguments
        raise as_invalid_input(from_validation_error(err, err.title)) from None
