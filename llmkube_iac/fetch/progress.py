"""Progress: a bar on a terminal, JSON lines otherwise (Job logs are machine-read)."""

from __future__ import annotations

import json
import sys
import time


class Progress:
    """Call with (done, total); prints at most every `interval` seconds, and once at the end."""

    def __init__(self, name: str, stream=None, interval: float = 1.0):
        self.name, self.stream, self.interval = name, stream or sys.stderr, interval
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = self.last = time.monotonic()

    def __call__(self, done: int, total: int | None, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self.last < self.interval:
            return
        self.last = now
        rate = done / max(now - self.start, 1e-6)
        if self.tty:
            pct = done / total if total else 0.0
            bar = "#" * int(30 * pct)
            self.stream.write(f"\r{self.name} [{bar:<30}] {pct:6.1%} {done >> 20} MiB {rate / (1 << 20):.0f} MiB/s")
            if final:
                self.stream.write("\n")
        else:
            self.stream.write(
                json.dumps(
                    {
                        "event": "done" if final else "progress",
                        "file": self.name,
                        "bytes": done,
                        "total": total,
                        "bytes_per_s": int(rate),
                    }
                )
                + "\n"
            )
        self.stream.flush()


def silent(done: int, total: int | None, final: bool = False) -> None:
    """No output (library callers that report progress themselves)."""
