"""Memory pressure: macOS's own verdict where available, /proc/meminfo on Linux (so it is testable).

Levels: 0 normal, 1 warn, 2 critical. On critical the agent evicts its lowest-priority runtime
(never the last one) and holds respawns until the level is back to normal.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

NORMAL, WARN, CRITICAL = 0, 1, 2
LEVEL_NAMES = {NORMAL: "normal", WARN: "warn", CRITICAL: "critical"}


def level_from_free(free_fraction: float, warn: float = 0.15, critical: float = 0.07) -> int:
    return CRITICAL if free_fraction < critical else WARN if free_fraction < warn else NORMAL


def meminfo_level(path: str | Path = "/proc/meminfo") -> int:
    """MemAvailable / MemTotal from a meminfo file (tests point this at a file they write)."""
    values = {}
    for line in Path(path).read_text().splitlines():
        m = re.match(r"(\w+):\s+(\d+)", line)
        if m:
            values[m.group(1)] = int(m.group(2))
    total, avail = values.get("MemTotal"), values.get("MemAvailable", values.get("MemFree"))
    if not total or avail is None:
        raise ValueError(f"{path}: no MemTotal/MemAvailable lines")
    return level_from_free(avail / total)


def macos_level() -> int:
    """kern.memorystatus_vm_pressure_level (1 normal, 2 warn, 4 critical): the kernel's own judgement."""
    out = subprocess.run(
        ["sysctl", "-n", "kern.memorystatus_vm_pressure_level"], capture_output=True, text=True, timeout=5
    ).stdout.strip()
    return {"1": NORMAL, "2": WARN, "4": CRITICAL}.get(out, NORMAL)


def probe(meminfo: str | None = None) -> int:
    """The current level; a probe that fails reports normal rather than evicting on a guess."""
    try:
        if meminfo:
            return meminfo_level(meminfo)
        if sys.platform == "darwin":
            return macos_level()
        return meminfo_level()
    except (OSError, ValueError, subprocess.SubprocessError):
        return NORMAL
