"""Model fetch and memory pre-flight, behind seams so the agent is testable without the network.

The real fetcher (`llmkube_iac.fetch.fetch`) and fit estimator (`llmkube_iac.modelinfo.fit`) are
used when importable; a built-in file:// fetch with sha256 and a size-based estimate stand in
otherwise, so a Mac with only the agent installed still refuses wrong hashes and oversize models.
"""
from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import unquote, urlparse

from ..runtimes import native_runtime
from ..spec.metal import MetalServiceState

GIB = 1024 ** 3


class FetchError(Exception):
    """The weights could not be had or did not match their sha256: the runtime must not start."""


@dataclass(frozen=True)
class Estimate:
    bytes: int
    verdict: str  # fits | marginal | does-not-fit | unknown
    detail: str


Fetcher = Callable[[MetalServiceState, Path], Path]
Estimator = Callable[[MetalServiceState, Path, int], Estimate]


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def local_fetch(state: MetalServiceState, dest: Path) -> Path:
    """file:// (or a plain path): copy into the cache, verifying sha256 on the way."""
    parsed = urlparse(state.source)
    if parsed.scheme not in ("file", ""):
        raise FetchError(f"{state.source}: only file:// sources without llmkube_iac.fetch installed")
    src = Path(unquote(parsed.path))
    if not src.is_file():
        raise FetchError(f"{src}: no such file")
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / src.name
    if not target.exists() or target.stat().st_size != src.stat().st_size:
        shutil.copyfile(src, target)
    if state.sha256:
        got = sha256_file(target)
        if got != state.sha256:
            target.unlink()
            raise FetchError(f"sha256 mismatch for {src.name}: expected {state.sha256[:12]}..., got {got[:12]}...")
    return target


def default_fetch(state: MetalServiceState, dest: Path) -> Path:
    """The project's fetcher when present (hf://, https://, s3://, resumable), else local_fetch."""
    try:
        from ..fetch import fetch  # type: ignore[attr-defined]
    except ImportError:
        return local_fetch(state, dest)
    try:
        from ..fetch.progress import silent as progress
    except ImportError:  # pragma: no cover - older fetcher
        progress = None
    try:
        return Path(fetch(state.source, dest, sha256=state.sha256, progress=progress))
    except Exception as err:  # the fetcher's errors are user-facing already
        raise FetchError(str(err)) from err


def size_estimate(state: MetalServiceState, path: Path, budget: int) -> Estimate:
    """Weights size + 10% (runtime buffers) when nothing better is known; the KV cache is not counted."""
    size = path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    need = max(int(size * 1.1), state.memory_estimate_bytes or 0)
    verdict = "fits" if need <= budget else "does-not-fit"
    return Estimate(need, verdict, f"weights {size / GIB:.2f} GiB + 10% (size-based estimate)")


def default_estimate(state: MetalServiceState, path: Path, budget: int) -> Estimate:
    """By the runtime's memory model (its registry entry): "size" is size_estimate; "fit" is the fit
    estimator (weights + GQA-correct KV cache + buffers) when present, else size_estimate."""
    if native_runtime(state.runtime).memory_model == "size":
        return size_estimate(state, path, budget)
    try:
        from ..modelinfo import inspect_source  # type: ignore[attr-defined]
        from ..modelinfo.fit import fit_service  # type: ignore[import-not-found]
        from ..spec import InferenceServiceSpec, ModelSpec
    except ImportError:
        return size_estimate(state, path, budget)
    try:
        report = fit_service(ModelSpec.model_validate(state.model), InferenceServiceSpec.model_validate(state.service),
                             memory_gib=budget / GIB, info=inspect_source(str(path)))
    except Exception as err:  # an unreadable header must not crash the agent: fall back, say so
        est = size_estimate(state, path, budget)
        return Estimate(est.bytes, est.verdict, f"{est.detail}; fit estimator failed: {err}")
    need = int(report.per_device_bytes or 0) or size_estimate(state, path, budget).bytes
    return Estimate(need, report.verdict, report.summary())
