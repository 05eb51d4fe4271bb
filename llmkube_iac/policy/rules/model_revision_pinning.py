"""model-revision-pinning (stack): at air-gapped sites every hf:// model source names a commit.

Why: a branch or tag (or no revision: main) is whatever upstream points it at when the download
Job runs. At an air-gapped site the mirror is re-synced by hand and nobody can look upstream up
later, so a plan that does not say which commit it serves cannot be reviewed or reproduced. The
Site pins branches and tags through the site's hfEndpoint at plan time (modelinfo.revisions); this
rule refuses what stayed unpinned, with the reason recorded on the Model component."""

from __future__ import annotations

from ...modelinfo.sources import parse_source
from ..base import Rule, Violation
from ..view import StackView


def check_revision_pinning(view: StackView, cfg: dict):
    all_sites = cfg.get("allSites", False)
    for site in view.sites.values():
        if not (site.spec.air_gapped or all_sites):
            continue
        reasons = {m.spec.source: (m.revision or {}).get("unpinned_reason") for m in site.models}
        # each Model once; a service's own model only when no Model carries it (metal hosts fetch it themselves)
        entries = [(m.res, m.spec) for m in site.models]
        entries += [(s.res, s.model) for s in site.services if s.model and s.model.source not in reasons]
        for res, model in entries:
            src = parse_source(model.source)
            if src.scheme != "hf" or src.pinned:
                continue
            why = reasons.get(model.source) or "it was not resolved to a commit at plan time"
            where = "air-gapped" if site.spec.air_gapped else "every site is judged"
            yield Violation(
                f"{res.describe()} (site {site.spec.name}, {where}): model source {model.source} names "
                f"revision {src.revision or 'main (none written)'}, not a commit: {why}",
                res.urn,
            )


RULE = Rule(
    "model-revision-pinning",
    "At air-gapped sites every hf:// model source is pinned to a commit (the Site "
    "resolves branches and tags through site.hfEndpoint at plan time), so the plan says which bytes it serves.",
    "mandatory",
    "Set site.hfEndpoint to the site's Hugging Face mirror and make it reachable from where you run the preview "
    "(the branch or tag is then pinned at plan time), or write the commit yourself: "
    "hf://org/repo@<40-hex commit>[/file].",
    "stack",
    check_revision_pinning,
    {"allSites": {"type": "boolean", "default": False, "description": "Judge every site, not only air-gapped ones"}},
)
