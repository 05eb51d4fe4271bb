"""Registry-mirror rewriting of every image a plan references (containers, init, ephemeral, image volumes)."""
from __future__ import annotations

import copy

from ..spec import RegistryMirror

_POD_TEMPLATE_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"}
CONTAINER_KEYS = ("initContainers", "containers", "ephemeralContainers")  # every kind runs an image


def split_registry(image: str) -> tuple[str, str]:
    """('ghcr.io', 'a/b:1'); Docker Hub short names become ('docker.io', 'library/x:1')."""
    first, _, rest = image.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first, rest
    return "docker.io", image if rest else f"library/{image}"


def rewrite_image(image: str, mirrors: tuple[RegistryMirror, ...]) -> str:
    """Rewrite one reference; a host entry wins over "*"; unchanged when no mirror applies."""
    if not mirrors or not image:
        return image
    registry, path = split_registry(image)
    for m in mirrors:
        if m.source == registry:
            return f"{m.mirror}/{path}"
    for m in mirrors:
        if m.source == "*":
            if image.startswith(m.mirror + "/"):
                return image  # already on the mirror
            return f"{m.mirror}/{registry}/{path}"
    return image


def pod_spec_of(manifest: dict) -> dict | None:
    """The pod spec inside a workload manifest (or the Pod itself), else None."""
    kind = manifest.get("kind")
    if kind == "Pod":
        return manifest.get("spec")
    if kind in _POD_TEMPLATE_KINDS:
        return manifest.get("spec", {}).get("template", {}).get("spec")
    if kind == "CronJob":
        return manifest.get("spec", {}).get("jobTemplate", {}).get("spec", {}).get("template", {}).get("spec")
    return None


def containers_of(pod_spec: dict):
    """(key, container) for every container of a pod spec, init and ephemeral ones included."""
    for key in CONTAINER_KEYS:
        for c in pod_spec.get(key) or []:
            yield key, c


def images_of(pod_spec: dict) -> list[str]:
    out = [c.get("image", "") for _, c in containers_of(pod_spec)]
    out += [v["image"]["reference"] for v in pod_spec.get("volumes", []) if "image" in v]
    return out


def apply_mirrors(manifests: list[dict], mirrors: tuple[RegistryMirror, ...]) -> list[dict]:
    """A copy of the manifests with every image reference rewritten to the site's mirrors."""
    if not mirrors:
        return manifests
    out = []
    for m in manifests:
        spec = pod_spec_of(m)
        if spec is None:
            out.append(m)
            continue
        m = copy.deepcopy(m)
        spec = pod_spec_of(m)
        for _, c in containers_of(spec):
            c["image"] = rewrite_image(c["image"], mirrors)
        for v in spec.get("volumes", []):
            if "image" in v:
                v["image"]["reference"] = rewrite_image(v["image"]["reference"], mirrors)
        out.append(m)
    return out
