"""Which model headers the Site reads at plan time, and reading them in parallel.

Only sources the site itself serves are read: a local path, a pvc:// mounted under
LLMKUBE_PVC_ROOT, an https store listed in `site.modelStores`, or a Hugging Face file through
the site's `hfEndpoint` mirror (at the commit the source was pinned to, see revisions.py). The
public Hub, S3 and OCI are never contacted at plan time (an air-gapped site uses only what is
declared, and a preview must not depend on the internet). `LLMKUBE_PLAN_TIME_FACTS=off` turns
reading (and revision lookups) off entirely.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

from ..spec import ModelSpec, SiteSpec
from .info import ModelInfo
from .inspect import facts_at_plan_time, inspect_source
from .remote import hf_file_url
from .sources import is_public_hub

PLAN_TIME_TIMEOUT = 3.0


def plan_time_reads_on() -> bool:
    """`LLMKUBE_PLAN_TIME_FACTS=off` (or 0/false/no) turns every plan-time read and lookup off."""
    return os.environ.get("LLMKUBE_PLAN_TIME_FACTS", "on").lower() not in ("off", "0", "false", "no")


def plan_time_uri(site: SiteSpec, model: ModelSpec) -> str | None:
    """The URI to read the header from, or None when the site does not serve this source."""
    if not plan_time_reads_on():
        return None
    src = model.parsed_source
    if src.scheme in ("file", "pvc"):
        return src.uri
    if src.scheme in ("http", "https") and src.host in site.model_stores:
        return src.uri
    if src.scheme == "hf" and site.hf_endpoint and not is_public_hub(site.hf_endpoint) and src.filename:
        return hf_file_url(src.location, src.path, src.revision, endpoint=site.hf_endpoint)
    return None


def _read(site: SiteSpec, model: ModelSpec) -> ModelInfo | None:
    uri = plan_time_uri(site, model)
    if uri is None:
        return None
    if uri == model.source:
        return facts_at_plan_time(model)
    try:
        return inspect_source(uri, timeout=PLAN_TIME_TIMEOUT)
    except Exception:  # noqa: BLE001 — unreachable mirror: plan with declared facts, never fail the preview
        return None


def gather_facts(site: SiteSpec, models: dict[str, ModelSpec]) -> dict[str, ModelInfo]:
    """Header facts by model name for the models this site serves itself (reads run in parallel)."""
    wanted = {name: m for name, m in models.items() if plan_time_uri(site, m) is not None}
    if not wanted:
        return {}
    with ThreadPoolExecutor(max_workers=min(8, len(wanted))) as pool:
        results = dict(zip(wanted, pool.map(lambda m: _read(site, m), wanted.values()), strict=True))
    return {name: info for name, info in results.items() if info is not None}


def size_bytes(info: ModelInfo | None) -> int | None:
    if info is None:
        return None
    return info.file_size or info.total_bytes
