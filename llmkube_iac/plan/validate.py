"""The last gate of a plan: every object must be one the API server accepts, and no two may share a name.

Why a gate after the planners: spec validators catch bad input at its field, but names, labels
and numbers are also *derived* (a Job named after a model, a label from a product, a replica count
from autoscaling, `<router>-external`), and two components can derive the same object (a router
named like a service both create Service `chat`: one would silently overwrite the other).
Before anything is registered, each manifest is walked once and checked with the API server's
rules (spec/k8s.py); a problem is an error under the config path of the component that made
the object, and a collision names both components.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from ..spec import k8s
from ..spec.errors import SpecError
from .federation import REF_PREFIX as PEER_REF_PREFIX

# metadata.name rule per kind (default: DNS-1123 subdomain)
_NAME_RULES = {
    "Service": k8s.check_dns1035_label,
    "Namespace": k8s.check_dns1123_label,
    "Job": k8s.check_dns1123_label,  # its pods carry the name as a label value: at most 63 characters
}
_SUBDOMAIN_KEYS = frozenset({"storageClassName", "claimName", "secretName", "priorityClassName", "serviceAccountName"})
_INT32_KEYS = frozenset(
    {
        "replicas",
        "minReplicas",
        "maxReplicas",
        "minReplicaCount",
        "maxReplicaCount",
        "cooldownPeriod",
        "averageUtilization",
        "containerPort",
        "terminationGracePeriodSeconds",
        "leaseDurationSeconds",
        "backoffLimit",
        "periodSeconds",
        "failureThreshold",
    }
)
_LABEL_MAPS = frozenset({"labels", "matchLabels", "nodeSelector"})


def _check_map(value: dict, path: str, values: bool) -> Iterable[tuple[str, str]]:
    for key, item in value.items():
        reason = k8s.check_qualified_name(key) if isinstance(key, str) else "keys must be strings"
        if reason:
            yield f"{path}[{key!r}]", reason
        if values:
            reason = k8s.check_label_value(item) if isinstance(item, str) else "label values must be strings"
            if reason:
                yield f"{path}[{key!r}]", reason


def _walk(value, path: str) -> Iterable[tuple[str, str]]:
    """(json path, reason) for every field the API server would refuse."""
    if isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, (dict, list)):  # scalars in a list carry no rule of their own
                yield from _walk(item, f"{path}[{i}]")
        return
    if not isinstance(value, dict):
        return
    for key, item in value.items():
        here = f"{path}.{key}" if path else key
        if key in _LABEL_MAPS and isinstance(item, dict):
            yield from _check_map(item, here, values=True)
            continue
        if key == "annotations" and isinstance(item, dict):
            yield from _check_map(item, here, values=False)
            size = sum(len(k) + len(str(v)) for k, v in item.items())
            if size > k8s.MAX_ANNOTATIONS_BYTES:
                yield here, f"annotations total {size} bytes, over the API server's {k8s.MAX_ANNOTATIONS_BYTES}"
            continue
        if key in ("requests", "limits") and isinstance(item, dict) and path.endswith("resources"):
            for name, qty in item.items():
                reason = k8s.check_quantity(str(qty), name)
                if reason:
                    yield f"{here}.{name}", reason
            continue
        if key in _SUBDOMAIN_KEYS and isinstance(item, str):
            reason = k8s.check_dns1123_subdomain(item)
        elif key in _INT32_KEYS and isinstance(item, int):
            reason = k8s.check_int32(item, key)
        elif key == "port" and isinstance(item, int) and not 1 <= item <= 65535:
            reason = f"port {item} is not 1-65535"
        elif (
            key == "stabilizationWindowSeconds"
            and isinstance(item, int)
            and not 0 <= item <= k8s.MAX_STABILIZATION_SECONDS
        ):
            reason = f"{item} is outside 0-{k8s.MAX_STABILIZATION_SECONDS} seconds"
        elif key == "cidr" and isinstance(item, str):  # a peer's addresses are checked once bound (federation)
            reason = None if item.startswith(PEER_REF_PREFIX) else k8s.check_cidr(item)
        elif key == "image" and isinstance(item, str):
            reason = k8s.check_image(item)
        elif key == "sizeLimit" and isinstance(item, str):
            reason = k8s.check_quantity(item, "size limit")
        elif key == "env" and isinstance(item, list):
            reason = next(
                (
                    k8s.check_env_name(e["name"])
                    for e in item
                    if isinstance(e, dict) and isinstance(e.get("name"), str) and k8s.check_env_name(e["name"])
                ),
                None,
            )
        elif key == "tolerations" and isinstance(item, list):
            reason = next(
                (
                    r
                    for t in item
                    if isinstance(t, dict)
                    for r in (
                        k8s.check_qualified_name(t.get("key", "")) if t.get("key") else None,
                        k8s.check_label_value(t.get("value", "")) if t.get("value") else None,
                    )
                    if r
                ),
                None,
            )
        else:
            if isinstance(item, (dict, list)):  # other scalars carry no rule: no generator for them
                yield from _walk(item, here)
            continue
        if reason:
            yield here, reason


def manifest_problems(manifest: dict) -> list[tuple[str, str]]:
    """(field, reason) for one object: its name, namespace, size and every field `_walk` knows."""
    meta = manifest.get("metadata") or {}
    kind = manifest.get("kind", "")
    problems = []
    name = meta.get("name", "")
    reason = _NAME_RULES.get(kind, k8s.check_dns1123_subdomain)(name)
    if reason:
        problems.append(("metadata.name", reason))
    if meta.get("namespace") is not None:
        reason = k8s.check_dns1123_label(meta["namespace"])
        if reason:
            problems.append(("metadata.namespace", reason))
    problems += list(_walk(manifest, ""))
    size = len(json.dumps(manifest, separators=(",", ":")))
    if size > k8s.MAX_OBJECT_BYTES:
        problems.append(("", f"the object is {size >> 10} KiB, over etcd's {k8s.MAX_OBJECT_BYTES >> 10} KiB limit"))
    if kind == "ConfigMap":
        data = manifest.get("data") or {}
        size = sum(len(k) + len(v.encode()) for k, v in data.items())
        if size > k8s.MAX_CONFIGMAP_BYTES:
            limit = k8s.MAX_CONFIGMAP_BYTES >> 10
            problems.append(("data", f"{size >> 10} KiB of data, over a ConfigMap's {limit} KiB"))
    return problems


def _key(manifest: dict) -> tuple:
    group = manifest.get("apiVersion", "").rpartition("/")[0]
    meta = manifest.get("metadata") or {}
    return group, manifest.get("kind"), meta.get("namespace"), meta.get("name")


def check_objects(owned: Iterable[tuple[str, dict]]) -> None:
    """Raise one SpecError listing every problem; `owned` pairs each manifest with its config path."""
    problems: list[tuple[str, str]] = []
    first: dict[tuple, str] = {}
    clashes: dict[tuple[str, str], list[str]] = {}
    for path, manifest in owned:
        what = f"{manifest.get('kind')} {str((manifest.get('metadata') or {}).get('name'))[:80]}"
        for field, reason in manifest_problems(manifest):
            problems.append((path, f"{what}: {field + ': ' if field else ''}{reason}"))
        key = _key(manifest)
        if key in first:
            clashes.setdefault((path, first[key]), []).append(what)
        else:
            first[key] = path
    for (path, other), objects in clashes.items():
        more = f" (and {len(objects) - 1} more)" if len(objects) > 1 else ""
        by = "twice by this component" if other == path else f"also by {other}"
        problems.append(
            (path, f"{objects[0]}{more} is created {by}: rename one of them, or the objects would overwrite each other")
        )
    if problems:
        raise SpecError(problems)
