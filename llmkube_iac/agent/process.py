"""One supervised runtime process: spawned in its own session, reaped by a thread blocked in waitpid.

A thread blocked in `Popen.wait()` (waitpid) learns of an exit the instant it happens, which is
what lets the agent pull the endpoint out of rotation within a second instead of on a poll.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path


class Child:
    """A runtime process; `on_exit(pid, returncode)` is called from the reaper thread."""

    def __init__(
        self, name: str, argv: list[str], env: dict[str, str], log_path: Path, on_exit: Callable[[int, int], None]
    ):
        self.name, self.argv, self.env, self.log_path, self.on_exit = name, argv, env, log_path, on_exit
        self.proc: subprocess.Popen | None = None
        self.started_at = 0.0
        self.stopping = False

    def start(self) -> int:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.argv,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.started_at = time.monotonic()
        threading.Thread(target=self._reap, name=f"reap-{self.name}", daemon=True).start()
        return self.proc.pid

    def _reap(self) -> None:
        code = self.proc.wait()
        self.on_exit(self.proc.pid, code)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM the process group (llama-server may have helpers), SIGKILL after `grace` seconds."""
        self.stopping = True
        if not self.alive:
            return
        self._signal(signal.SIGTERM)
        try:
            self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.proc.wait(5)

    def _signal(self, sig: int) -> None:
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass


def tail(path: Path, limit: int = 400) -> str:
    """The end of a runtime's log, for status reasons (why did it exit?)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - limit))
            return fh.read().decode(errors="replace").strip().splitlines()[-1][:200]
    except (OSError, IndexError):
        return ""
