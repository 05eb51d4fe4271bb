"""The documentation stays a true map of this repository.

The README starts with the two commands a newcomer runs; every relative link in the README and
docs/ lands on a file (and a heading) that exists; nothing in the repository points outside it;
the topic pages name every vendor, runtime and policy rule the tables hold.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from llmkube_iac.hardware import VENDORS
from llmkube_iac.policy.rules import RULES
from llmkube_iac.runtimes import RUNTIMES
from tests.conftest import ROOT

FIRST_COMMANDS = (
    "# llmkube-iac\n\n```bash\n"
    "python3 -m pip install -e . && python3 -m llmkube_iac render stacks --stack dev --out out\n"
    "bash scripts/test\n```\n"
)
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# What the repository is made of (build outputs, virtualenvs and caches are not looked at).
SOURCE_DIRS = (
    "llmkube_iac",
    "tests",
    "docs",
    "examples",
    "stacks",
    "policy",
    "components",
    "scripts",
    "benchmarks",
    ".github",
    ".ci",
)
SOURCE_SUFFIXES = {".py", ".md", ".yaml", ".yml", ".json", ".toml", ".txt", ".cfg", ".sh", ""}
# Spelled in pieces so this file does not match itself.
OUTSIDE = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\.\./" + "shared",
        "steer" + r"ing[ -]repo",
        "DES" + r"IGN\.md",
        r"\bissues?\s+#?\d+\b",
    )
]
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: text only, lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"<[^>]+>", "", heading)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text).replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = page.read_text(encoding="utf-8")
    text = re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)  # headings only outside code
    found = set(re.findall(r'<a id="([^"]+)"></a>', text))
    found |= {slug(h) for h in re.findall(r"^#{1,6} +(.+)$", text, flags=re.MULTILINE)}
    return found


def test_readme_starts_with_the_two_commands():
    assert (ROOT / "README.md").read_text(encoding="utf-8").startswith(FIRST_COMMANDS)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_land(page: Path):
    broken = []
    for target in _LINK.findall(page.read_text(encoding="utf-8")):
        if re.match(r"^[a-z]+:", target):  # https:, mailto: ...
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.is_relative_to(ROOT):
            broken.append(f"{target} (outside the repository)")
        elif not dest.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target} (no such heading)")
    assert not broken, f"{page.relative_to(ROOT)}: broken links: {broken}"


def test_nothing_points_outside_the_repository():
    hits = []
    for top in SOURCE_DIRS:
        for path in sorted((ROOT / top).rglob("*")):
            if not path.is_file() or path.suffix not in SOURCE_SUFFIXES or "__pycache__" in path.parts:
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            hits += [f"{path.relative_to(ROOT)}: {m.group(0)!r}" for p in OUTSIDE for m in p.finditer(text)]
    for path in sorted(ROOT.glob("*")):
        if path.is_file() and path.suffix in SOURCE_SUFFIXES | {".md"}:
            text = path.read_text(encoding="utf-8", errors="replace")
            hits += [f"{path.name}: {m.group(0)!r}" for p in OUTSIDE for m in p.finditer(text)]
    assert not hits, f"references to things outside the repository: {hits}"


def test_topic_pages_name_every_table_entry():
    serving = (ROOT / "docs" / "serving.md").read_text(encoding="utf-8")
    policy = (ROOT / "docs" / "policy.md").read_text(encoding="utf-8")
    missing = [f"vendor {v} (docs/serving.md)" for v in VENDORS if f"`{v}`" not in serving]
    missing += [f"runtime {r} (docs/serving.md)" for r in RUNTIMES if f"`{r}`" not in serving]
    missing += [f"rule {r.name} (docs/policy.md)" for r in RULES if f"`{r.name}`" not in policy]
    assert not missing, f"the docs do not mention: {missing}"
