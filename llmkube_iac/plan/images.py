"""The one image step of a plan: every image a plan references (containers, init, ephemeral, image volumes,
and the image values an add-on chart is given) is rewritten to the site's registry mirrors; the pods'
images are then pinned to the digest `llmkube-iac pin` recorded for them in site.imageDigests. What
stays tag-only at a site where pinning is advisory carries the scanner skip that says so
(plan/scanner.py); where it is mandatory (airGapped, production) it does not, and image-pinning
refuses it."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from ..spec import RegistryMirror, SiteSpec
from .charts import is_chart
from .scanner import TAG_ONLY_IMAGE, add_skips

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


def rewrite_prefix(prefix: str, mirrors: tuple[RegistryMirror, ...]) -> str:
    """A registry[/path] a chart joins with image names (`ghcr.io`, `nvcr.io/nvidia`), rewritten like the
    references it will produce: as the prefix of one, with the name taken back off."""
    return rewrite_image(f"{prefix}/_", mirrors)[:-2]


def _mirror_chart(manifest: dict, mirrors: tuple[RegistryMirror, ...]) -> dict:
    """A chart pseudo-manifest whose image values (spec.images, the chart's own keys) point at the mirrors."""
    images = manifest["spec"].get("images")
    if not images:
        return manifest
    m = copy.deepcopy(manifest)
    for image in m["spec"]["images"]:
        value = image["value"]
        image["value"] = rewrite_prefix(value, mirrors) if image["prefix"] else rewrite_image(value, mirrors)
        if image["value"] != value:
            *parents, last = image["key"].split(".")
            values = m["spec"].setdefault("values", {})
            for key in parents:
                values = values.setdefault(key, {})
            values[last] = image["value"]
    return m


def pod_spec_of(manifest: Mapping[str, Any]) -> dict | None:
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
        if is_chart(m):
            out.append(_mirror_chart(m, mirrors))
            continue
        spec = pod_spec_of(m)
        if spec is None:
            out.append(m)
            continue
        m = _copy(m)
        spec = pod_spec_of(m)
        assert spec is not None  # the copy has the pod spec the original has
        for _, c in containers_of(spec):
            c["image"] = rewrite_image(c["image"], mirrors)
        for v in spec.get("volumes", []):
            if "image" in v:
                v["image"]["reference"] = rewrite_image(v["image"]["reference"], mirrors)
        out.append(m)
    return out


def pin_digest(image: str, digests: Mapping[str, str]) -> str:
    """`image@sha256:...` when site.imageDigests holds a digest for exactly this reference; else unchanged."""
    if not image or "@" in image:
        return image
    digest = digests.get(image)
    return f"{image}@{digest}" if digest else image


def is_pinned(image: str) -> bool:
    return "@sha256:" in image


def _copy(value):
    """A deep copy of JSON-shaped manifest data (several times faster than copy.deepcopy, which keeps a
    memo for aliasing JSON never has); anything else is handed to copy.deepcopy."""
    kind = type(value)
    if kind is dict:
        return {k: _copy(v) for k, v in value.items()}
    if kind is list:
        return [_copy(v) for v in value]
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    return copy.deepcopy(value)


def apply_site_images(manifests: list[dict], site: SiteSpec) -> list[dict]:
    """A copy of the manifests as the site runs them: mirrored, pinned, and the tag-only ones annotated
    (one copy of each workload for both steps)."""
    if not site.image_digests and site.requires_pinned_images:
        return apply_mirrors(manifests, site.registry_mirrors)
    mirrors, digests = site.registry_mirrors, site.image_digests
    result = []
    for m in manifests:
        if is_chart(m):
            result.append(_mirror_chart(m, mirrors) if mirrors else m)
            continue
        if pod_spec_of(m) is None:
            result.append(m)
            continue
        if not mirrors and not digests:  # nothing to rewrite: only the annotation, on a copy of the metadata
            if not site.requires_pinned_images and not all(is_pinned(i) for i in images_of(pod_spec_of(m) or {})):
                meta = dict(m.get("metadata") or {})
                meta["annotations"] = dict(meta.get("annotations") or {})
                m = add_skips({**m, "metadata": meta}, TAG_ONLY_IMAGE)
            result.append(m)
            continue
        m = _copy(m)
        spec = pod_spec_of(m)
        assert spec is not None  # the copy has the pod spec the original has
        for _, c in containers_of(spec):
            c["image"] = pin_digest(rewrite_image(c["image"], mirrors), digests)
        for v in spec.get("volumes", []):
            if "image" in v:
                v["image"]["reference"] = pin_digest(rewrite_image(v["image"]["reference"], mirrors), digests)
        if not site.requires_pinned_images and not all(is_pinned(i) for i in images_of(spec)):
            add_skips(m, TAG_ONLY_IMAGE)
        result.append(m)
    return result
