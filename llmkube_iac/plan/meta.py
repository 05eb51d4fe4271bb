"""Object metadata conventions: deterministic names, the standard and discovery labels.

Every planner builds `metadata` through here so labels are uniform (policies and the router
discover services by them) and label values are always valid.
"""

from __future__ import annotations

import hashlib
import re

PART_OF = "llmkube"
DNS_LABEL_MAX = 63
NAME_LABEL = "app.kubernetes.io/name"  # selectors (and the router's egress rule) match workloads by it
DISCOVERY_PREFIX = "llmkube.dev/"
_LABEL_VALUE = re.compile(r"[^A-Za-z0-9_.-]+")


def discovery_key(name: str) -> str:
    """`site` -> `llmkube.dev/site`: the key of a discovery label (underscores become dashes)."""
    return DISCOVERY_PREFIX + name.replace("_", "-")


SITE_LABEL = discovery_key("site")  # every object a site plans carries it: renderer and policies group by it
# on the namespaces holding team LocalQueues: the site's Kueue admits workloads there (plan/quota.py, addons.py)
KUEUE_MANAGED_LABEL = discovery_key("kueue-managed")


def label_value(value: object) -> str:
    """Coerce to a valid label value (<= 63 chars, alphanumeric at both ends)."""
    text = _LABEL_VALUE.sub("-", str(value))[:63].strip("-_.")
    return text


def bounded_name(base: str, suffix: str = "", limit: int = DNS_LABEL_MAX) -> str:
    """`base + suffix`, or when that is too long a truncated base plus a hash of the whole base, so the
    name stays valid, deterministic and distinct for distinct bases (Job names become pod labels: <= 63)."""
    name = base + suffix
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(base.encode()).hexdigest()[:8]
    keep = limit - len(suffix) - len(digest) - 1
    if keep < 1:
        raise ValueError(f"suffix {suffix!r} leaves no room for a name within {limit} characters")
    return f"{base[:keep].rstrip('-')}-{digest}{suffix}"


def standard_labels(name: str, instance: str, component: str) -> dict[str, str]:
    return {
        NAME_LABEL: label_value(name),
        "app.kubernetes.io/instance": label_value(instance),
        "app.kubernetes.io/component": label_value(component),
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": "pulumi",
    }


def selector_labels(name: str, instance: str) -> dict[str, str]:
    """The immutable subset used in selectors (Deployment selector, Service, PDB, policies)."""
    return {NAME_LABEL: label_value(name), "app.kubernetes.io/instance": label_value(instance)}


def discovery_labels(**values: object) -> dict[str, str]:
    """`llmkube.dev/<key>` labels; None values are left out, keys keep their dashes."""
    return {discovery_key(k): label_value(v) for k, v in values.items() if v is not None}


def object_labels(name: str, instance: str, component: str, **discovery: object) -> dict[str, str]:
    """The standard labels plus the discovery labels (site=..., model=...): what most objects carry."""
    return {**standard_labels(name, instance, component), **discovery_labels(**discovery)}


def metadata(
    name: str, namespace: str | None, labels: dict[str, str], annotations: dict[str, str] | None = None
) -> dict:
    meta: dict = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    meta["labels"] = dict(labels)
    if annotations:
        meta["annotations"] = dict(annotations)
    return meta


def manifest(api_version: str, kind: str, meta: dict, **body) -> dict:
    """A wire-form Kubernetes object (the one representation planners, renderer and policies share)."""
    out = {"apiVersion": api_version, "kind": kind, "metadata": meta}
    out.update({k: v for k, v in body.items() if v is not None})
    return out
