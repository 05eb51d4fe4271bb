"""`llmkube-iac`: one entry point; each area contributes its subcommands through `add_commands`.

Exit codes: 0 ok, 1 refused (policy violation, failed fetch), 2 invalid input.
"""
from __future__ import annotations

import argparse
import importlib
import sys

COMMAND_MODULES = (
    "llmkube_iac.render.cli",
    "llmkube_iac.fetch.cli", "llmkube_iac.modelinfo.cli", "llmkube_iac.pin.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="llmkube-iac", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from .spec.errors import SpecError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except SpecError as err:
        print("invalid input:", file=sys.stderr)
        for path, msg in err.problems:
            print(f"  {path}: {msg}" if path else f"  {msg}", file=sys.stderr)
        return 2
    except ValueError as err:
        print(f"invalid input: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
