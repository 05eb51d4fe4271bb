"""Per-object rules (CrossGuard resource policies): the Pod Security "restricted" baseline, image
pinning and secrets hygiene. They need nothing but the manifest, so they run on every object
under either engine, Helm-free objects included."""
from __future__ import annotations

import re

from ..hardware import VENDORS
from ..plan.images import images_of, pod_spec_of
from .base import Res, Rule

HOST_ACCESS_ANNOTATION = "llmkube.dev/host-access"  # value "multi-gpu": a declared multi-device need
_SECCOMP_OK = ("RuntimeDefault", "Localhost")


def device_keys() -> tuple[str, ...]:
    """Extended resources of every vendor in the table, read now (a vendor added later counts too)."""
    return tuple(v.resource_key for v in VENDORS.values() if v.resource_key)


def _containers(pod: dict):
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for c in pod.get(key) or []:
            yield key, c


def _device_count(pod: dict) -> int:
    total = 0
    for _, c in _containers(pod):
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
    for key, c in _containers(pod):
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


_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def check_pinning(res: Res, cfg: dict):
    pod = pod_spec_of(res.props) if res.is_kubernetes_object else None
    if pod is None:
        return
    for image in images_of(pod):
        if not _DIGEST.search(image):
            yield f"{res.describe()}: image {image} is not pinned by digest (@sha256:...)"


TOKEN_PATTERNS = {
    "an OpenAI/Anthropic-style API key": r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}",
    "a Hugging Face token": r"\bhf_[A-Za-z0-9]{30,}",
    "a GitHub token": r"\bgh[pousr]_[A-Za-z0-9]{36,}",
    "an AWS access key id": r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
    "a Slack token": r"\bxox[abprs]-[A-Za-z0-9-]{10,}",
    "a Google API key": r"\bAIza[0-9A-Za-z_-]{35}",
    "a private key": r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
    "a JSON web token": r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}",
}
_TOKENS = [(what, re.compile(p)) for what, p in TOKEN_PATTERNS.items()]
_SECRET_NAME = re.compile(r"(API_?KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|PRIVATE_?KEY|ACCESS_?KEY)", re.I)
_SECRET_FLAG = re.compile(r"^--?(api-key|api_key|apikey|token|hf-token|password|secret|master-key)(=(.+))?$", re.I)
_SECRET_ASSIGN = re.compile(r"\b(api_?key|api-key|apikey|password|secret|secret_key|access_key|auth_token|"
                            r"master_key|hf_token)\b\s*[:=]\s*[\"']?([^\s\"',}]+)", re.I)
_CODE_SUFFIXES = (".py", ".js", ".ts", ".sh", ".lua", ".go")
_REFERENCE = ("os.environ/", "$(", "${", "<", "secretKeyRef")


def _is_literal_secret(value: str, cfg: dict) -> bool:
    v = value.strip()
    return bool(v) and v not in cfg.get("allowedLiterals", []) and not v.startswith(_REFERENCE) \
        and v.lower() not in ("true", "false", "none", "null", "")


def _token_in(text: str, cfg: dict) -> str | None:
    for what, rx in _TOKENS:
        m = rx.search(text)
        if m and m.group(0) not in cfg.get("allowedLiterals", []):
            return what
    return None


def check_secrets(res: Res, cfg: dict):
    if not res.is_kubernetes_object or res.kind == "Secret":
        return
    what = res.describe()
    pod = pod_spec_of(res.props)
    for key, c in _containers(pod or {}):
        name = f"{what} {key[:-1]} {c.get('name')}"
        for e in c.get("env") or []:
            value = e.get("value")
            if not isinstance(value, str):
                continue
            token = _token_in(value, cfg)
            if token:
                yield f"{name}: env {e.get('name')} holds {token} as a literal"
            elif _SECRET_NAME.search(str(e.get("name", ""))) and _is_literal_secret(value, cfg):
                yield f"{name}: env {e.get('name')} has a literal value; take it from a Secret (valueFrom.secretKeyRef)"
        words = [str(a) for a in (c.get("command") or []) + (c.get("args") or [])]
        for i, word in enumerate(words):
            token = _token_in(word, cfg)
            m = _SECRET_FLAG.match(word)
            value = (m.group(3) if m and m.group(3) else words[i + 1] if m and i + 1 < len(words) else None)
            if token:
                yield f"{name}: argument {i} holds {token} as a literal"
            elif value is not None and _is_literal_secret(value, cfg):
                yield f"{name}: {m.group(1)} is passed as a literal argument; read it from a Secret-backed env var"
    if res.kind == "ConfigMap":
        for section in ("data", "binaryData"):
            for key, text in (res.props.get(section) or {}).items():
                text = str(text)
                token = _token_in(text, cfg)
                if token:
                    yield f"{what}: {section}.{key} holds {token}"
                    continue
                if key.endswith(_CODE_SUFFIXES):
                    continue  # source code: names like api_key are parameters, not values; tokens were checked
                for m in _SECRET_ASSIGN.finditer(text):
                    if _is_literal_secret(m.group(2), cfg) and not m.group(2).isdigit():
                        yield f"{what}: {section}.{key} sets {m.group(1)} to a literal value"
                        break


RULES = [
    Rule("security-baseline", "Pods meet Pod Security 'restricted': non-root, no privilege escalation, all "
         "capabilities dropped, seccomp, no host namespaces/hostPath/hostPort (unless a declared multi-GPU need), "
         "limits set, no service-account token automount.", "mandatory",
         "Use the planners' security contexts (plan/security.py) instead of raw manifests; if a multi-GPU "
         f"workload truly needs host access, request >1 device and annotate it {HOST_ACCESS_ANNOTATION}: multi-gpu.",
         "resource", check_security,
         {"allowMultiGpuHostAccess": {"type": "boolean", "default": True},
          "requireLimits": {"type": "array", "items": {"type": "string"}, "default": ["memory"]}}),
    Rule("image-pinning", "Every image is pinned by digest (advisory by default; mandatory for air-gapped sites).",
         "advisory",
         "Reference images as registry/repo:tag@sha256:<digest> (service `image`, site.toolsImage), e.g. with "
         "`crane digest` against the mirror.",
         "resource", check_pinning, {}),
    Rule("secrets-hygiene", "No secret-looking literal in env values, container args/commands or ConfigMaps: "
         "secrets come from Secrets by reference.", "mandatory",
         "Store the value in a Kubernetes Secret and reference it (env valueFrom.secretKeyRef, or the spec's "
         "*Secret fields such as hfTokenSecret / apiKeySecret); rotate the leaked key.",
         "resource", check_secrets,
         {"allowedLiterals": {"type": "array", "items": {"type": "string"}, "default": ["sk-llmkube-local"],
                              "description": "Known non-secret placeholders"}}),
]
