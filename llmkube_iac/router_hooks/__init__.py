"""The hook modules every Router zone's ConfigMap carries and the LiteLLM proxy loads.

They run inside the proxy (with litellm and fastapi importable), never in this package's own
process: the planner only reads their source text, so importing this package imports nothing
from LiteLLM. `llmkube_common` holds the zone's rules and shared state, `llmkube_auth` is the
`custom_auth` hook (keys, classes, zones, paths, rpm/tpm), `llmkube_guard` the callback
(class stamping, deployment filtering, base-URL re-check, one audit line per request),
`llmkube_metrics` the Prometheus endpoint counted from those audit lines.
"""
from __future__ import annotations

from importlib import resources

HOOK_MODULES = ("llmkube_common", "llmkube_auth", "llmkube_guard", "llmkube_metrics")
RULES_FILE = "llmkube_router.json"


def hook_sources() -> dict[str, str]:
    """File name -> source text of each hook module (what the ConfigMap carries)."""
    pkg = resources.files(__name__)
    return {f"{m}.py": (pkg / f"{m}.py").read_text(encoding="utf-8") for m in HOOK_MODULES}
