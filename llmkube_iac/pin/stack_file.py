"""Write `imageDigests` into the `llmkube:site` block of a Pulumi.<stack>.yaml, keeping everything else.

PyYAML cannot round-trip comments, so the block is edited as text: the `imageDigests:` entry of the
site mapping is replaced (or added at its end), the result is parsed again and must equal the
original configuration with exactly that one value changed; otherwise nothing is written and the
caller gets the block to paste. The file is replaced atomically.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

import yaml

SITE_KEY = "llmkube:site"


def digests_block(digests: dict[str, str], indent: str = "") -> str:
    lines = [f"{indent}imageDigests:" + (" {}" if not digests else "")]
    lines += [f"{indent}  {json.dumps(ref)}: {digest}" for ref, digest in sorted(digests.items())]
    return "\n".join(lines) + "\n"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _blank(line: str) -> bool:
    return not line.strip() or line.lstrip().startswith("#")


def with_digests(text: str, digests: dict[str, str]) -> str:
    """The stack file's text with llmkube:site.imageDigests set to `digests`; ValueError when it cannot be."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if re.match(rf"^\s*{re.escape(SITE_KEY)}:\s*(#.*)?$", line)), None)
    if start is None:
        raise ValueError(f"no block-style `{SITE_KEY}:` mapping in the stack file")
    site_indent = _indent(lines[start])
    end = start + 1
    while end < len(lines) and (_blank(lines[end]) or _indent(lines[end]) > site_indent):
        end += 1
    while end > start + 1 and _blank(lines[end - 1]):
        end -= 1  # trailing blank lines and comments stay after the block
    body = [i for i in range(start + 1, end) if not _blank(lines[i])]
    if not body:
        raise ValueError(f"`{SITE_KEY}` is empty")
    child = _indent(lines[body[0]])
    block = lines[start + 1 : end]
    kept, skipping = [], False
    for line in block:
        if not _blank(line) and _indent(line) == child:
            skipping = line.strip().startswith("imageDigests:")
        elif not _blank(line) and _indent(line) < child:
            skipping = False
        if not skipping:
            kept.append(line)
    if kept and not kept[-1].endswith("\n"):
        kept[-1] += "\n"
    new_text = "".join(lines[: start + 1] + kept) + digests_block(digests, " " * child) + "".join(lines[end:])
    before, after = yaml.safe_load(text), yaml.safe_load(new_text)
    expected = json.loads(json.dumps(before))
    expected["config"][SITE_KEY]["imageDigests"] = dict(digests)
    if after != expected:
        raise ValueError("editing the stack file would change more than llmkube:site.imageDigests")
    return new_text


def write_digests(path: Path, digests: dict[str, str]) -> None:
    """Set llmkube:site.imageDigests in the stack file `path` (atomically); ValueError leaves it untouched."""
    new_text = with_digests(path.read_text(), digests)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(new_text)
        os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
