"""The cache discipline every source shares: lock, partial file, hash in the same pass, verify,
atomic rename, marker.

Why: a download Job, a pod's init step and the metal-agent may race on one cache directory, and a
crash can stop any of them mid-file. The rules: only `DIR/<file>` + `DIR/.llmkube-verified.json`
are ever "in the cache"; bytes arrive in `DIR/.<file>.partial`; a flock on `DIR/.<file>.lock`
serialises fetchers; a wrong hash deletes the partial file; the marker is written last, atomically.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

MARKER = ".llmkube-verified.json"
CHUNK = 1 << 20


class FetchError(RuntimeError):
    """A fetch that failed for a reason outside the caller's input (network, hash, disk)."""


@contextmanager
def locked(dest: Path, name: str):
    """Exclusive lock for one cache entry; a second fetcher waits, then finds it done."""
    dest.mkdir(parents=True, exist_ok=True)
    with open(dest / f".{name or 'repo'}.lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def read_marker(dest: Path) -> dict | None:
    try:
        return json.loads((dest / MARKER).read_text())
    except (OSError, ValueError):
        return None


def write_marker(dest: Path, sha256: str, size: int, filename: str, source: str) -> None:
    """Atomic: a reader sees the old marker or the new one, never half of one."""
    tmp = dest / f"{MARKER}.tmp"
    tmp.write_text(json.dumps({"sha256": sha256, "size": size, "file": filename, "source": source}))
    os.replace(tmp, dest / MARKER)


def already_cached(dest: Path, filename: str, sha256: str | None, source: str) -> bool:
    """True when the marker vouches for this file (and hash, when one is expected): no re-hash."""
    m = read_marker(dest)
    if not m or m.get("file") != filename or not (dest / filename if filename else dest).exists():
        return False
    if sha256:
        return m.get("sha256") == sha256
    return m.get("source") == source


def hash_file(path: Path, h=None, limit: int | None = None):
    """sha256 over a local file (resumed partial files: their bytes are not re-downloaded)."""
    h = h or hashlib.sha256()
    with open(path, "rb") as fh:
        left = limit
        while True:
            block = fh.read(CHUNK if left is None else min(CHUNK, left))
            if not block:
                break
            h.update(block)
            if left is not None:
                left -= len(block)
    return h


def check_space(dest: Path, needed: int) -> None:
    free = shutil.disk_usage(dest).free
    if needed > free:
        raise FetchError(f"disk full: {dest} has {free} bytes free, the download needs {needed} more")


def disk_full_error(dest: Path, exc: OSError) -> FetchError:
    return FetchError(f"disk full while writing to {dest}: {exc.strerror}; the partial file was removed")


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def finish(dest: Path, partial: Path, filename: str, h, size: int, sha256: str | None, source: str) -> Path:
    """Verify, rename into the cache, then write the marker. A mismatch deletes the partial file."""
    digest = h.hexdigest()
    if sha256 and digest != sha256.lower():
        partial.unlink(missing_ok=True)
        raise FetchError(
            f"sha256 mismatch for {source}: expected {sha256.lower()}, got {digest} "
            f"({size} bytes); the partial file was deleted"
        )
    final = dest / filename
    os.replace(partial, final)
    write_marker(dest, digest, size, filename, source)
    return final
