"""The hook modules every Router zone's ConfigMap carries and the LiteLLM proxy loads.

They run inside the proxy (with litellm and fastapi importable), never in this package's own
process: the planner only reads their source text, so importing this package imports nothing
from LiteLLM. `llmkube_policy` holds the request tables (routes, body fields, headers) and their
pure checks, `llmkube_common` the zone's rules and shared state, `llmkube_front` the ASGI layer
around the whole proxy app (every check before LiteLLM, one audit line per request keyed on the
proxy's call id), `llmkube_auth` the `custom_auth` hook (installs the front, hands LiteLLM its
decision), `llmkube_guard` the callback (deployment filtering, every upstream URL and key of the
final call re-checked, audit enrichment), `llmkube_metrics` the Prometheus endpoint counted from
the audit lines.
"""
from __future__ import annotations

from importlib import resources

HOOK_MODULES = ("llmkube_policy", "llmkube_common", "llmkube_front", "llmkube_auth", "llmkube_guard",
                "llmkube_metrics")
RULES_FILE = "llmkube_router.json"


def hook_sources() -> dict[str, str]:
    """File name -> source text of each hook module (what the ConfigMap carries)."""
    pkg = resources.files(__name__)
    return {f"{m}.py": (pkg / f"{m}.py").read_text(encoding="utf-8") for m in HOOK_MODULES}
