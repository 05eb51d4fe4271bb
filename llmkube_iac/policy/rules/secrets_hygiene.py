"""secrets-hygiene: no secret-looking literal in env values, container args/commands or ConfigMaps;
secrets come from Secrets by reference. Known token shapes are caught anywhere; secret-named env
vars, flags and assignments must not carry a literal value (references and placeholders pass)."""

from __future__ import annotations

import re

from ...plan.images import pod_spec_of
from ..base import Res, Rule
from ..pods import containers_of

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
_SECRET_FLAG = re.compile(r"^--?(api-key|api_key|apikey|token|hf-token|password|secret|master-key)(=(.+))?\Z", re.I)
_SECRET_ASSIGN = re.compile(
    r"\b(api_?key|api-key|apikey|password|secret|secret_key|access_key|auth_token|"
    r"master_key|hf_token)\b\s*[:=]\s*[\"']?([^\s\"',}]+)",
    re.I,
)
_CODE_SUFFIXES = (".py", ".js", ".ts", ".sh", ".lua", ".go")
_REFERENCE = ("os.environ/", "$(", "${", "<", "secretKeyRef")


def _is_literal_secret(value: str, cfg: dict) -> bool:
    v = value.strip()
    return (
        bool(v)
        and v not in cfg.get("allowedLiterals", [])
        and not v.startswith(_REFERENCE)
        and v.lower() not in ("true", "false", "none", "null", "")
    )


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
    for key, c in containers_of(pod or {}):
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
            value = m.group(3) if m and m.group(3) else words[i + 1] if m and i + 1 < len(words) else None
            if token:
                yield f"{name}: argument {i} holds {token} as a literal"
            elif m and value is not None and _is_literal_secret(value, cfg):
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


RULE = Rule(
    "secrets-hygiene",
    "No secret-looking literal in env values, container args/commands or ConfigMaps: "
    "secrets come from Secrets by reference.",
    "mandatory",
    "Store the value in a Kubernetes Secret and reference it (env valueFrom.secretKeyRef, or the spec's "
    "*Secret fields such as hfTokenSecret / apiKeySecret); rotate the leaked key.",
    "resource",
    check_secrets,
    {
        "allowedLiterals": {
            "type": "array",
            "items": {"type": "string"},
            "default": ["sk-llmkube-local"],
            "description": "Known non-secret placeholders",
        }
    },
)
