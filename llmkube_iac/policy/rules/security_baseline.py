"""security-baseline: every pod meets the Pod Security "restricted" baseline. A CrossGuard resource
policy: it needs nothing but the manifest, so it runs on every object under either engine, Helm-free
objects included. Host access is allowed only for a declared multi-GPU need."""

from __future__ import annotations

from ...hardware import VENDORS
from ...plan.images import pod_spec_of
from ..base import Res, Rule
from ..pods import containers_of

HOST_ACCESS_ANNOTATION = "llmkube.dev/host-access"  # value "multi-gpu": a declared multi-device need
_SECCOMP_OK = ("RuntimeDefault", "Localhost")


def device_keys() -> tuple[str, ...]:
    """Extended resources of every vendor in the table, read now (a vendor added later counts too)."""
    return tuple(v.resource_key for v in VENDORS.values() if v.resource_key)


def _device_count(pod: dict) -> int:
    total = 0
    for _, c in containers_of(pod):
        limits = (c.get("resources") or {}).get("limits") or {}
        for k in device_keys():
            try:
                total += int(str(limits.get(k, 0)))
            except ValueError:
                pass
    return total


def _declared_host_access(res: Res, pod: dict, cfg: dict) -> bool:
    if not cfg.get("allowMultiGpuHostAccess", True):
        return False
    notes = dict((res.props.get("metadata") or {}).get("annotations") or {})
    notes.update(((res.props.get("spec") or {}).get("template") or {}).get("metadata", {}).get("annotations") or {})
    return notes.get(HOST_ACCESS_ANNOTATION) == "multi-gpu" and _device_count(pod) > 1


def check_security(res: Res, cfg: dict):
    pod = pod_spec_of(res.props) if res.is_kubernetes_object else None
    if pod is None:
        return
    what = res.describe()
    host_ok = _declared_host_access(res, pod, cfg)
    for flag in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(flag) and not host_ok:
            yield f"{what}: {flag}: true (allowed only for a declared multi-GPU need)"
    for v in pod.get("volumes") or []:
        if "hostPath" in v and not host_ok:
            yield f"{what}: volume {v.get('name')} is a hostPath ({v['hostPath'].get('path')})"
    if pod.get("automountServiceAccountToken") is not False:
        yield f"{what}: automountServiceAccountToken is not false (the pod would carry an API token)"
    psc = pod.get("securityContext") or {}
    seccomp_pod = (psc.get("seccompProfile") or {}).get("type") in _SECCOMP_OK
    if psc.get("runAsUser") == 0:
        yield f"{what}: pod securityContext.runAsUser is 0 (root)"
    required = set(cfg.get("requireLimits", ["memory"]))
    for key, c in containers_of(pod):
        name = f"{what} {key[:-1]} {c.get('name')}"
        sc = c.get("securityContext") or {}
        if sc.get("privileged"):
            yield f"{name}: privileged: true"
        if sc.get("allowPrivilegeEscalation") is not False:
            yield f"{name}: allowPrivilegeEscalation is not false"
        caps = sc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            yield f"{name}: capabilities.drop does not include ALL"
        added = [a for a in caps.get("add") or [] if a != "NET_BIND_SERVICE"]
        if added:
            yield f"{name}: adds capabilities {', '.join(added)}"
        if not (psc.get("runAsNonRoot") or sc.get("runAsNonRoot")) or sc.get("runAsUser") == 0:
            yield f"{name}: may run as root (set runAsNonRoot: true and a non-zero runAsUser)"
        if not seccomp_pod and (sc.get("seccompProfile") or {}).get("type") not in _SECCOMP_OK:
            yield f"{name}: no RuntimeDefault/Localhost seccompProfile"
        if any(p.get("hostPort") for p in c.get("ports") or []) and not host_ok:
            yield f"{name}: uses a hostPort"
        if key != "ephemeralContainers":
            limits = (c.get("resources") or {}).get("limits") or {}
            missing = sorted(r for r in required if r not in limits)
            if missing:
                yield f"{name}: no resource limits for {', '.join(missing)}"


RULE = Rule(
    "security-baseline",
    "Pods meet Pod Security 'restricted': non-root, no privilege escalation, all "
    "capabilities dropped, seccomp, no host namespaces/hostPath/hostPort (unless a declared multi-GPU need), "
    "limits set, no service-account token automount.",
    "mandatory",
    "Use the planners' security contexts (plan/security.py) instead of raw manifests; if a multi-GPU "
    f"workload truly needs host access, request >1 device and annotate it {HOST_ACCESS_ANNOTATION}: multi-gpu.",
    "resource",
    check_security,
    {
        "allowMultiGpuHostAccess": {"type": "boolean", "default": True},
        "requireLimits": {"type": "array", "items": {"type": "string"}, "default": ["memory"]},
    },
)
