"""The API key a metal runtime demands: read from its Secret, kept in a file only this user reads.

Why a file: llama-server's --api-key-file keeps the key off the command line (every local user can
read a process's argv) and out of the environment of children. The Secret is read through the API
server with the host's own identity (its Role names that Secret and nothing else); the key never
leaves the agent's state directory, which is private to the agent's user.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import requests

from .kube import ApiError


class UnusableKey(Exception):
    """The Secret's key is unusable (empty, several lines): waiting will not fix it until someone edits it."""


def check_key(value: str, where: str) -> str:
    key = value.strip()
    if not key:
        raise UnusableKey(f"{where} is empty: put the API key in it (one line)")
    if "\n" in key or "\r" in key:
        raise UnusableKey(f"{where} holds several lines: llama-server would accept each as a key; keep one")
    return key


def wait_for_key(
    read: Callable[[str, str], str],
    name: str,
    key: str,
    keep_waiting: Callable[[], bool],
    on_wait: Callable[[str], None],
    first_delay: float = 1.0,
    max_delay: float = 30.0,
) -> str | None:
    """Read `key` of Secret `name`, retrying with backoff while it cannot be read (it may be created after
    the stack); None once `keep_waiting()` turns false. UnusableKey when the value itself is unusable."""
    delay = first_delay
    while keep_waiting():
        try:
            return check_key(read(name, key), f"Secret {name} key {key}")
        except (ApiError, requests.RequestException, ValueError, UnicodeDecodeError) as err:
            on_wait(f"waiting for the API key in Secret {name} (key {key}): {' '.join(str(err).split())[:200]}")
        time.sleep(delay)
        delay = min(delay * 2, max_delay)
    return None


def write_key_file(state_dir: Path, service: str, key: str) -> Path:
    """<state>/keys/<service>.key, mode 0600 in a 0700 directory, replaced atomically."""
    folder = state_dir / "keys"
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{service}.")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(key + "\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, folder / f"{service}.key")
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return folder / f"{service}.key"
