"""image-pinning: every image a pod references is pinned by digest, so what runs is what was
reviewed and mirrored. Advisory by default; the evaluator makes it mandatory in air-gapped sites."""
from __future__ import annotations

import re

from ...plan.images import images_of, pod_spec_of
from ..base import Res, Rule

_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def check_pinning(res: Res, cfg: dict):
    pod = pod_spec_of(res.props) if res.is_kubernetes_object else None
    if pod is None:
        return
    for image in images_of(pod):
        if not _DIGEST.search(image):
            yield f"{res.describe()}: image {image} is not pinned by digest (@sha256:...)"


RULE = (
    Rule("image-pinning", "Every image is pinned by digest (advisory by default; mandatory for air-gapped sites).",
         "advisory",
         "Reference images as registry/repo:tag@sha256:<digest> (service `image`, site.toolsImage), e.g. with "
         "`crane digest` against the mirror.",
         "resource", check_pinning, {})
)
