"""The restricted Pod Security profile every pod we plan runs under."""

from __future__ import annotations

RUN_AS_USER = 65532  # a non-root uid that exists in distroless-style images; runtimes need no other


def pod_security_context(supplemental_groups: tuple[int, ...] = ()) -> dict:
    ctx = {
        "runAsNonRoot": True,
        "runAsUser": RUN_AS_USER,
        "runAsGroup": RUN_AS_USER,
        "fsGroup": RUN_AS_USER,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    if supplemental_groups:
        ctx["supplementalGroups"] = list(supplemental_groups)
    return ctx


def container_security_context(read_only_root: bool = True) -> dict:
    return {
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": read_only_root,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def empty_dir(name: str, size_limit: str | None = None, memory: bool = False) -> dict:
    spec: dict = {}
    if memory:
        spec["medium"] = "Memory"
    if size_limit:
        spec["sizeLimit"] = size_limit
    return {"name": name, "emptyDir": spec}
