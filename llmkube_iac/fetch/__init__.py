"""Model downloader: resumable, sha256 in the same pass, verified before it enters the cache.

Used by the download Job (`llmkube-iac fetch`), the pods' init step (which only checks the
marker) and the metal-agent (`fetch(...)`). Stdlib + requests only at import time; boto3 and
huggingface-hub are imported when an s3:// or whole-repo hf:// source needs them.
"""

from __future__ import annotations

import hashlib
import os
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ..modelinfo.inspect import local_path
from ..modelinfo.sources import parse_source
from .core import (
    MARKER,
    FetchError,
    already_cached,
    check_space,
    disk_full_error,
    finish,
    hash_file,
    is_disk_full,
    locked,
    write_marker,
)
from .progress import Progress
from .sources import Restart, file_stream, hf_snapshot, http_stream, s3_stream

ATTEMPTS = 4
ProgressFn = Callable[..., None]
__all__ = ["MARKER", "FetchError", "fetch"]


def _opener(source: str):
    """(filename, open(offset) -> (total, chunks, closeable)) for one source."""
    if "://" not in source or source.startswith(("file://", "pvc://")):
        path = local_path(source if "://" in source else f"file://{os.path.abspath(source)}")
        return path.name, lambda off: file_stream(path, off)
    src = parse_source(source)
    if src.scheme in ("http", "https"):
        return src.filename.split("?")[0], lambda off: http_stream(src.uri, off)
    if src.scheme == "hf":
        from ..modelinfo.remote import hf_file_url, hf_headers

        url = hf_file_url(src.location, src.path, src.revision)
        return src.filename, lambda off: http_stream(url, off, hf_headers())
    if src.scheme == "s3":
        return src.filename, lambda off: s3_stream(src.location, src.path, off)
    raise ValueError(f"cannot fetch {src.scheme}:// sources: {source} (oci images are pulled by the kubelet)")


class _Stage:
    """One consumer thread (hashing, or writing) fed through a bounded queue.

    Why threads: network reads, sha256 and file writes all release the GIL on large buffers, so
    in three threads they overlap and the fetch runs at the speed of its slowest stage, close to a
    plain streaming copy, instead of at the sum of the three."""

    def __init__(self, consume: Callable[[bytes], object]):
        self.queue: queue.Queue = queue.Queue(maxsize=32)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(consume,), daemon=True)
        self.thread.start()

    def _run(self, consume) -> None:
        while (block := self.queue.get()) is not None:
            if self.error is None:
                try:
                    consume(block)
                except BaseException as exc:  # noqa: BLE001 - handed back to the caller's thread
                    self.error = exc

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()


def _pump(chunks, fh, h, progress, done: int, total: int | None) -> int:
    """Network reads in this thread; hashing and writing each in its own stage."""
    stages = [_Stage(h.update), _Stage(fh.write)]
    try:
        for block in chunks:
            if any(s.error for s in stages):
                break
            for stage in stages:
                stage.queue.put(block)
            done += len(block)
            progress(done, total)
    finally:
        for stage in stages:
            stage.close()
    for stage in stages:
        if stage.error is not None:
            raise stage.error
    return done


def _fetch_file(source: str, dest: Path, filename: str, open_at, sha256: str | None, progress: ProgressFn) -> Path:
    partial = dest / f".{filename}.partial"
    for attempt in range(ATTEMPTS):
        offset = partial.stat().st_size if partial.exists() else 0
        try:
            total, chunks, _ = open_at(offset)
        except Restart:
            partial.unlink(missing_ok=True)
            continue
        if total is not None and offset > total:
            partial.unlink(missing_ok=True)
            continue
        if total is not None:
            check_space(dest, total - offset)
        h = hash_file(partial, limit=offset) if offset else hashlib.sha256()
        try:
            with open(partial, "ab") as fh:
                done = _pump(chunks, fh, h, progress, offset, total)
        except OSError as exc:
            if is_disk_full(exc):
                partial.unlink(missing_ok=True)
                raise disk_full_error(dest, exc) from None
            if attempt + 1 == ATTEMPTS:
                raise FetchError(f"{source}: transfer failed after {ATTEMPTS} attempts: {exc}") from None
            time.sleep(0.2 * (attempt + 1))
            continue
        except Exception as exc:  # noqa: BLE001 - a dropped connection: resume from what we have
            if attempt + 1 == ATTEMPTS:
                raise FetchError(f"{source}: transfer failed after {ATTEMPTS} attempts: {exc}") from None
            time.sleep(0.2 * (attempt + 1))
            continue
        if total is not None and done < total:
            if attempt + 1 == ATTEMPTS:
                raise FetchError(f"{source}: truncated: got {done} of {total} bytes after {ATTEMPTS} attempts")
            continue
        progress(done, total, final=True)
        return finish(dest, partial, filename, h, done, sha256, source)
    raise FetchError(f"{source}: could not complete the transfer in {ATTEMPTS} attempts")


def _fetch_repo(source: str, dest: Path, sha256: str | None) -> Path:
    src = parse_source(source)
    root = hf_snapshot(src.location, src.revision, dest)
    h, size = hashlib.sha256(), 0
    for f in sorted(
        p for p in root.rglob("*") if p.is_file() and ".cache" not in p.parts and not p.name.startswith(".")
    ):
        fh = hash_file(f)
        h.update(f"{f.relative_to(root)}\0{fh.hexdigest()}\n".encode())
        size += f.stat().st_size
    digest = h.hexdigest()
    if sha256 and digest != sha256:
        raise FetchError(f"tree sha256 mismatch for {source}: expected {sha256}, got {digest}")
    write_marker(dest, digest, size, "", source)
    return root


def fetch(source: str, dest: str | Path, sha256: str | None = None, progress: ProgressFn | None = None) -> Path:
    """Fetch `source` into `dest/<filename>` (whole hf repos into `dest/`), verified, and mark it."""
    dest = Path(dest)
    sha256 = sha256.lower().removeprefix("sha256:") if sha256 else None
    if sha256 and (len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256)):
        raise ValueError("--sha256 must be 64 hexadecimal characters")
    if source.startswith("hf://") and not parse_source(source).path:
        with locked(dest, ""):
            if already_cached(dest, "", sha256, parse_source(source).uri):
                return dest
            return _fetch_repo(parse_source(source).uri, dest, sha256)
    filename, open_at = _opener(source)
    if not filename:
        raise ValueError(f"{source}: names no file")
    uri = parse_source(source).uri if "://" in source else source
    with locked(dest, filename):
        if already_cached(dest, filename, sha256, uri):
            return dest / filename
        (dest / MARKER).unlink(missing_ok=True)  # what the marker vouched for is about to change
        return _fetch_file(uri, dest, filename, open_at, sha256, progress or Progress(filename))
