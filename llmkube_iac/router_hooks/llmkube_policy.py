"""What a client request may contain, as tables, and the pure checks that apply them.

Why deny by default: every field of a request body becomes a keyword argument of LiteLLM's call
(`api_base`, `base_url`, `api_key`, `fallbacks`, `user_config`, `mock_*`, `metadata`, ...), and any
string may be a server-side secret reference (`os.environ/NAME`, `oidc/...`) that LiteLLM
resolves. So only the OpenAI/Anthropic request fields listed here pass, with their JSON types;
nested values are walked for URL-carrying keys, LiteLLM control keys, unknown part types and
secret references. Headers follow the same rule: one key source, one classification line, and
only the headers in KEPT_HEADERS reach LiteLLM. Stdlib only: the planner imports ROUTES, the
proxy's front (llmkube_front) applies the rest, and the unit tests call it directly.
"""
from __future__ import annotations

import json
import re

# path -> (HTTP method, API family). Only these paths are served; everything else is refused.
ROUTES: dict[str, tuple[str, str]] = {
    "/v1/chat/completions": ("POST", "chat"),
    "/chat/completions": ("POST", "chat"),
    "/v1/completions": ("POST", "completion"),
    "/completions": ("POST", "completion"),
    "/v1/embeddings": ("POST", "embedding"),
    "/embeddings": ("POST", "embedding"),
    "/v1/messages": ("POST", "messages"),
    "/v1/responses": ("POST", "responses"),
    "/responses": ("POST", "responses"),
    "/v1/models": ("GET", "models"),
    "/models": ("GET", "models"),
}
# Kubelet probes: answered by the front itself (no key, no body, no audit line, nothing from LiteLLM).
PROBES = ("/health/liveliness", "/health/readiness")

# JSON type tags: s str, b bool, i int, f number, S str or list of str, L list, D object, J any JSON.
_CHAT = {"model": "s", "messages": "L", "stream": "b", "stream_options": "D", "temperature": "f", "top_p": "f",
         "n": "i", "stop": "S", "max_tokens": "i", "max_completion_tokens": "i", "presence_penalty": "f",
         "frequency_penalty": "f", "logit_bias": "D", "logprobs": "b", "top_logprobs": "i", "user": "s", "seed": "i",
         "tools": "L", "tool_choice": "J", "parallel_tool_calls": "b", "response_format": "D",
         "reasoning_effort": "s", "functions": "L", "function_call": "J"}
FIELDS: dict[str, dict[str, str]] = {
    "chat": _CHAT,
    "completion": {"model": "s", "prompt": "J", "stream": "b", "stream_options": "D", "max_tokens": "i",
                   "temperature": "f", "top_p": "f", "n": "i", "stop": "S", "presence_penalty": "f",
                   "frequency_penalty": "f", "logit_bias": "D", "logprobs": "i", "echo": "b", "best_of": "i",
                   "suffix": "s", "user": "s", "seed": "i"},
    "embedding": {"model": "s", "input": "J", "encoding_format": "s", "dimensions": "i", "user": "s"},
    "messages": {"model": "s", "messages": "L", "max_tokens": "i", "system": "J", "stop_sequences": "L",
                 "stream": "b", "temperature": "f", "top_p": "f", "top_k": "i", "tools": "L", "tool_choice": "J",
                 "thinking": "D"},
    "responses": {"model": "s", "input": "J", "instructions": "s", "max_output_tokens": "i", "temperature": "f",
                  "top_p": "f", "stream": "b", "tools": "L", "tool_choice": "J", "parallel_tool_calls": "b",
                  "text": "D", "reasoning": "D", "user": "s", "truncation": "s",
                  # LiteLLM's own /v1/messages -> Responses bridge sends include: ["reasoning.encrypted_content"]
                  # (a peer Router is called so); it names extra output parts, never a URL or a credential
                  "include": "S"},
    "models": {},
}
REQUIRED = {"chat": ("model", "messages"), "completion": ("model", "prompt"), "embedding": ("model", "input"),
            "messages": ("model", "messages", "max_tokens"), "responses": ("model", "input"), "models": ()}
# Values of a nested "type" key that are understood (content parts, tools, formats, tool choices).
TYPE_VALUES = frozenset({
    "text", "image_url", "input_audio", "input_text", "input_image", "output_text", "refusal", "image", "tool_use",
    "tool_result", "thinking", "redacted_thinking", "function", "function_call", "function_call_output", "message",
    "reasoning", "summary_text", "auto", "none", "required", "any", "tool", "json_object", "json_schema",
    "enabled", "disabled", "base64", "custom", "ephemeral",
})
# Nested keys whose values are user-defined JSON Schema: LiteLLM does not interpret the keys inside.
OPAQUE_KEYS = frozenset({"parameters", "input_schema", "schema"})
# Nested keys that are LiteLLM/provider controls or credentials, refused at any depth.
CONTROL_KEYS = frozenset({
    "api_key", "api_base", "base_url", "api_version", "model_list", "litellm_params", "model_info", "metadata",
    "litellm_metadata", "fallbacks", "context_window_fallbacks", "content_policy_fallbacks", "user_config",
    "file_id", "previous_response_id", "conversation", "headers", "extra_headers", "extra_body", "extra_query",
    "credentials", "organization", "deployment_id", "custom_llm_provider", "endpoint", "host", "proxy",
    "specific_deployment", "tags", "guardrails", "cache", "caching", "timeout", "num_retries",
})
CONTROL_PREFIXES = ("litellm", "mock_", "aws_", "vertex_", "azure_", "api_", "x-")
# Strings LiteLLM resolves server-side (secret_managers/main.py get_secret).
SECRET_PREFIXES = ("os.environ/", "oidc/")
MAX_DEPTH = 32
MAX_BODY_BYTES = 32 * 1024 * 1024

# Headers: where a key may come from, and which headers LiteLLM gets to see at all.
KEY_HEADERS = ("authorization", "x-api-key", "x-litellm-api-key", "api-key", "x-goog-api-key",
               "ocp-apim-subscription-key")
ACCEPTED_KEY_HEADERS = ("authorization", "x-api-key")
CLASS_HEADER = "x-llmkube-classification"
# Set by a peer site's Router on a call it federates here: the calling site's name. A federated request
# is served by this site's own backends only (one hop), and its audit line names the calling site.
FEDERATED_HEADER = "x-llmkube-federated"
# Site names are DNS-1035 labels (the spec's check_dns_label; test_policy checks the two agree).
SITE_LABEL = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?\Z")
REQUEST_ID_HEADER = "x-request-id"
CALL_ID_HEADER = "x-litellm-call-id"
# LiteLLM reads many request headers as controls (x-litellm-tags, -timeout, -num-retries, -call-id,
# -spend-logs-metadata, -agent-id, a CLI's user-agent switching param dropping): none of them pass.
KEPT_HEADERS = frozenset({"host", "accept", "accept-encoding", "connection", "anthropic-version",
                          *ACCEPTED_KEY_HEADERS})


class Refusal(Exception):
    """A request the front refuses: HTTP status, the field at fault, and what to do instead."""

    def __init__(self, status: int, field: str | None, message: str):
        super().__init__(message)
        self.status, self.field, self.message = status, field, message


def _reject_pairs(pairs: list[tuple[str, object]]) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise Refusal(400, key, f"duplicate key {key!r} in the JSON body: send each field once")
        out[key] = value
    return out


def _no_constant(name: str):
    raise Refusal(400, None, f"{name} is not JSON: send finite numbers")


def parse_body(raw: bytes) -> dict:
    """The body as one JSON object; duplicates, NaN/Infinity, non-UTF-8 and non-objects are refused."""
    if len(raw) > MAX_BODY_BYTES:
        raise Refusal(413, None, f"body larger than {MAX_BODY_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
        body = json.loads(text, object_pairs_hook=_reject_pairs, parse_constant=_no_constant)
    except Refusal:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise Refusal(400, None, f"body is not valid UTF-8 JSON ({type(exc).__name__}): send a JSON object") from None
    if not isinstance(body, dict):
        raise Refusal(400, None, f"body is a JSON {type(body).__name__}, not an object: send a JSON object")
    return body


_TYPES = {"s": (str,), "b": (bool,), "i": (int,), "f": (int, float), "L": (list,), "D": (dict,)}
_TYPE_NAMES = {"s": "a string", "b": "true or false", "i": "an integer", "f": "a number", "L": "a list",
               "D": "an object", "S": "a string or a list of strings"}


def _type_ok(tag: str, value: object) -> bool:
    if value is None:
        return True  # JSON null means "not set" to every SDK; LiteLLM drops it
    if tag == "J":
        return True
    if tag == "S":
        return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))
    if tag in ("i", "f") and isinstance(value, bool):
        return False
    return isinstance(value, _TYPES[tag])


def check_body(family: str, body: dict) -> None:
    """Refuse anything but the family's fields with their types, then walk every value."""
    allowed = FIELDS[family]
    for key, value in body.items():
        if key not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            raise Refusal(400, key, f"field {key!r} is not accepted on this route (accepted: {known})")
        if not _type_ok(allowed[key], value):
            raise Refusal(400, key, f"field {key!r} must be {_TYPE_NAMES[allowed[key]]}")
        _walk(value, key, 0, opaque=False)
    for key in REQUIRED[family]:
        if body.get(key) in (None, "", []):
            raise Refusal(400, key, f"field {key!r} is required")


def _walk(value: object, where: str, depth: int, opaque: bool) -> None:
    if depth > MAX_DEPTH:
        raise Refusal(400, where, f"{where} is nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        if value.lstrip().lower().startswith(SECRET_PREFIXES):
            raise Refusal(400, where, f"{where} is a server-side secret reference; send literal values only")
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            _walk(item, f"{where}[{i}]", depth + 1, opaque)
        return
    if not isinstance(value, dict):
        return
    for key, item in value.items():
        here = f"{where}.{key}"
        if not opaque:
            _check_key(key, item, here)
        _walk(item, here, depth + 1, opaque or key in OPAQUE_KEYS)


def _check_key(key: str, value: object, where: str) -> None:
    low = key.lower()
    if low in CONTROL_KEYS or low.startswith(CONTROL_PREFIXES):
        raise Refusal(400, where, f"{where} is a routing/credential control and is not accepted")
    if low.endswith(("url", "uri")):
        if isinstance(value, dict):
            return  # e.g. image_url: {url: ...}; the inner url is checked on the way down
        if not (isinstance(value, str) and value.lstrip().lower().startswith("data:")):
            raise Refusal(400, where, f"{where} carries a URL; only inline data: URIs are accepted")
    if low == "type" and value not in TYPE_VALUES:
        raise Refusal(400, where, f"{where} {value!r} is not an accepted part, tool or format type")


def check_query(query: bytes) -> None:
    if query:
        raise Refusal(400, "query", "query parameters are not accepted; send every field in the JSON body")


def header_lines(headers: list[tuple[bytes, bytes]]) -> dict[str, list[str]]:
    """Lower-case name -> every value sent under it, in order (latin-1, as HTTP/1 defines)."""
    out: dict[str, list[str]] = {}
    for name, value in headers:
        out.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))
    return out


def api_key_of(lines: dict[str, list[str]]) -> str | None:
    """The one key the request carries, or a Refusal when it carries several or an unsupported header."""
    present = [(name, v) for name in KEY_HEADERS for v in lines.get(name, [])]
    if not present:
        return None
    if len(present) > 1:
        names = ", ".join(sorted({n for n, _ in present}))
        raise Refusal(400, "headers", f"the key was sent {len(present)} times ({names}): send it once, "
                      "as Authorization: Bearer <key>")
    name, value = present[0]
    if name not in ACCEPTED_KEY_HEADERS:
        raise Refusal(401, name, f"header {name} is not a key source here: send Authorization: Bearer <key>")
    value = value.strip()
    if name == "authorization":
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Refusal(401, name, "Authorization must be 'Bearer <key>'")
        value = token.strip()
    return value


def class_header(lines: dict[str, list[str]]) -> str | None:
    values = lines.get(CLASS_HEADER, [])
    if len(values) > 1:
        raise Refusal(400, CLASS_HEADER, f"{CLASS_HEADER} was sent {len(values)} times: send it once")
    return values[0] if values else None


def federated_header(lines: dict[str, list[str]]) -> str | None:
    """The calling site of a federated request (None: not federated); one line holding one site name."""
    values = lines.get(FEDERATED_HEADER, [])
    if len(values) > 1:
        raise Refusal(400, FEDERATED_HEADER, f"{FEDERATED_HEADER} was sent {len(values)} times: send it once")
    if not values:
        return None
    if not SITE_LABEL.fullmatch(values[0]):
        shown = repr(values[0][:64])
        raise Refusal(400, FEDERATED_HEADER, f"{FEDERATED_HEADER} {shown} is not a site name: send the calling "
                      "site's name (a DNS label: lower-case letters, digits and '-', at most 63 characters)")
    return values[0]


def content_type_ok(lines: dict[str, list[str]]) -> bool:
    values = lines.get("content-type", [])
    if not values:
        return True
    if len(values) > 1:
        return False
    media, _, params = values[0].partition(";")
    return media.strip().lower() == "application/json" and params.strip().lower() in ("", "charset=utf-8")
