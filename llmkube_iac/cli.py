"""`llmkube-iac`: one entry point; each area contributes its subcommands through `add_commands`.

Exit codes: 0 ok, 1 refused (policy violation, failed fetch), 2 invalid input: one line per
problem naming the field (or file, or option) and the fix, never a traceback. A failure that is
not the input's (a bug) prints one line too and exits 70; LLMKUBE_DEBUG=1 shows its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

COMMAND_MODULES = (
    "llmkube_iac.render.cli",
    "llmkube_iac.fetch.cli",
    "llmkube_iac.modelinfo.cli",
    "llmkube_iac.pin.cli",
)
EXIT_INVALID, EXIT_INTERNAL = 2, 70


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="llmkube-iac", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_commands(sub)
    return parser


def _invalid(problems: list[tuple[str, str]]) -> int:
    print("invalid input:", file=sys.stderr)
    for path, msg in problems:
        print(f"  {path}: {msg}" if path else f"  {msg}", file=sys.stderr)
    return EXIT_INVALID


def main(argv: list[str] | None = None) -> int:
    from .render.engine import ProgramError
    from .spec.errors import SpecError, shorten

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except SpecError as err:
        return _invalid(err.problems)
    except ProgramError as err:
        return _invalid([("program", str(err))])
    except OSError as err:  # a file or directory named on the command line or in the config
        where = err.filename or ""
        return _invalid([(str(where), f"{err.strerror or type(err).__name__}")])
    except ValueError as err:
        return _invalid([("", shorten(str(err), 400))])
    except KeyboardInterrupt:
        return 130
    except Exception as err:  # noqa: BLE001 — a bug: one line, the traceback only on request
        if os.environ.get("LLMKUBE_DEBUG"):
            raise
        print(
            f"llmkube-iac: internal error (not your input; please report it): {type(err).__name__}: "
            f"{shorten(str(err), 300)} (LLMKUBE_DEBUG=1 shows the traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
