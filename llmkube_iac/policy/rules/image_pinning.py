"""image-pinning: every image a pod references is pinned by digest, so what runs is what was
reviewed and mirrored. Advisory by default; the evaluator makes it mandatory when a site is air-gapped
or says production: true (SiteSpec.requires_pinned_images)."""

from __future__ import annotations

import re

from ...plan.images import images_of, pod_spec_of
from ..base import Res, Rule

_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}\Z")


def check_pinning(res: Res, cfg: dict):
    pod = pod_spec_of(res.props) if res.is_kubernetes_object else None
    if pod is None:
        return
    for image in images_of(pod):
        if not _DIGEST.search(image):
            yield f"{res.describe()}: image {image} is not pinned by digest (@sha256:...)"


RULE = Rule(
    "image-pinning",
    "Every image is pinned by digest (advisory by default; mandatory at air-gapped and production sites).",
    "advisory",
    "Run `llmkube-iac pin <program> --stack <stack>`: it resolves every image of the stack to its digest "
    "against the registry or mirror the site pulls from and writes them to site.imageDigests.",
    "resource",
    check_pinning,
    {},
)
