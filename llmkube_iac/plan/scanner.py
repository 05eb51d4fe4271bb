"""Checkov skip annotations: the only place the planner tells the scanner a check does not apply, and why.

Every rendered object is scanned by checkov's Kubernetes framework in CI. Where a check cannot pass
for a stated reason, the object itself carries `checkov.io/skipN: <check>=<reason>` so the reason
travels with the manifest; docs/security.md lists every skip here (a test keeps the two in step).
A reason may not contain "=" (checkov splits the annotation on it).
"""

from __future__ import annotations

from collections.abc import Mapping

PREFIX = "checkov.io/skip"

# A tag-only image at a site where image-pinning is advisory (neither airGapped nor production).
TAG_ONLY_IMAGE = {
    "CKV_K8S_43": "tag-only image where image-pinning is advisory (site neither airGapped nor production): "
    "pin every image of the stack with llmkube-iac pin (writes site.imageDigests)",
    "CKV_K8S_15": "imagePullPolicy IfNotPresent on a tag-only image: pinned by digest (llmkube-iac pin, "
    "site.imageDigests) the reference is immutable and Always is not needed",
}
# The router reads its keys from the environment.
ROUTER_KEYS_IN_ENV = {
    "CKV_K8S_35": "LiteLLM reads master, team, provider and metal backend keys only from environment variables "
    "(os.environ/ references in its config); each comes from a secretKeyRef, never a literal",
}
# A download Job with a Hugging Face token.
HF_TOKEN_IN_ENV = {
    "CKV_K8S_35": "huggingface_hub reads the Hub token from HF_TOKEN; it comes from the Secret named by the "
    "model's hfTokenSecret through a secretKeyRef and only the download Job gets it",
}
ALL_SKIPS = {"tag-only image": TAG_ONLY_IMAGE, "router keys": ROUTER_KEYS_IN_ENV, "Hub token": HF_TOKEN_IN_ENV}


def add_skips(manifest: dict, checks: Mapping[str, str]) -> dict:
    """Annotate `manifest` (in place, and returned) with one skip per check, numbered after those it has."""
    notes = manifest.setdefault("metadata", {}).setdefault("annotations", {})
    have = {v.split("=", 1)[0] for k, v in notes.items() if k.startswith(PREFIX)}
    n = 1
    for check, reason in checks.items():
        if check in have:
            continue
        if "=" in reason:
            raise ValueError(f"checkov skip reason for {check} may not contain '=': {reason}")
        while f"{PREFIX}{n}" in notes:
            n += 1
        notes[f"{PREFIX}{n}"] = f"{check}={reason}"
        have.add(check)
    return manifest
