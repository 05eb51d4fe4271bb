"""Model fetch and memory pre-flight, behind seams so the agent is testable without the network.

The project's fetcher (`llmkube_iac.fetch`, whose FetchError the agent reports) brings the weights;
the fit estimator (`llmkube_iac.modelinfo.fit`) sizes them when importable, a size-based estimate
otherwise, so a host still refuses oversize models.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..fetch import FetchError, fetch
from ..fetch.progress import silent
from ..runtimes import native_runtime
from ..spec.metal import MetalServiceState
from ..units import GIB


@dataclass(frozen=True)
class Estimate:
    bytes: int
    verdict: str  # fits | marginal | does-not-fit | unknown
    detail: str


Fetcher = Callable[[MetalServiceState, Path], Path]
Estimator = Callable[[MetalServiceState, Path, int], Estimate]


def default_fetch(state: MetalServiceState, dest: Path) -> Path:
    """The project's fetcher (file://, hf://, https://, s3://; resumable, sha256-verified) into `dest`."""
    try:
        return Path(fetch(state.source, dest, sha256=state.sha256, progress=silent))
    except FetchError:
        raise
    except Exception as err:  # the fetcher's other errors (a source it cannot fetch) are user-facing already
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
        report = fit_service(
            ModelSpec.model_validate(state.model),
            InferenceServiceSpec.model_validate(state.service),
            memory_gib=budget / GIB,
            info=inspect_source(str(path)),
        )
    except Exception as err:  # an unreadable header must not crash the agent: fall back, say so
        est = size_estimate(state, path, budget)
        return Estimate(est.bytes, est.verdict, f"{est.detail}; fit estimator failed: {err}")
    need = int(report.per_device_bytes or 0) or size_estimate(state, path, budget).bytes
    return Estimate(need, report.verdict, report.summary())
