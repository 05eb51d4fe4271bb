"""Walking a pod spec's containers, for the per-object rules that read each one (security-baseline,
secrets-hygiene). Every kind counts: an init or ephemeral container runs with the same rights."""

from __future__ import annotations

CONTAINER_KEYS = ("initContainers", "containers", "ephemeralContainers")


def containers_of(pod: dict):
    """(key, container) for every container of the pod spec, init and ephemeral ones included."""
    for key in CONTAINER_KEYS:
        for c in pod.get(key) or []:
            yield key, c
