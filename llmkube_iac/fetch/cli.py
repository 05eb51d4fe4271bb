"""`llmkube-iac fetch SOURCE --dest DIR [--sha256 HEX]`: what the download Job runs."""

from __future__ import annotations

import sys


def _fetch(args) -> int:
    from . import FetchError, fetch

    try:
        path = fetch(args.source, args.dest, args.sha256)
    except FetchError as exc:
        print(f"fetch failed: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("fetch", help="download model weights into a cache dir, verified, resumable")
    p.add_argument(
        "source", help="hf://org/repo[@rev][/file], https://..., s3://bucket/key, pvc://claim/path, file:///path"
    )
    p.add_argument("--dest", required=True, help="cache directory (the file lands at DIR/<filename>)")
    p.add_argument("--sha256", help="expected SHA-256 (hex); a mismatch deletes the download and exits 1")
    p.set_defaults(func=_fetch)
