"""Adversarial suite: request vectors against both zones' real LiteLLM proxies, one table row each.

Each row is sent as is (raw headers, duplicates included) and must get its status and audit
outcome. Across the whole table: the attacker host receives nothing, the external upstream no
protected or sovereign-zone payload, the peer site's Router only rows served to it (never a
federated one), no upstream a client key or the master key, no upstream but the external one the
provider key and none but the peer this router's key there, and every request exactly one audit
line under the call id the proxy returned. `{attacker}` and `{ext}` in a row stand for the
loopback URLs of those hosts. Adding a vector is adding a row.
"""

from __future__ import annotations

import json
import time
from typing import NamedTuple

import pytest

from .harness import send
from .stack import CLIENT_SECRETS, KEYS, PEER_KEY, PROVIDER_KEY, ROGUE_KEY

pytestmark = pytest.mark.router

BASE = {
    "/v1/chat/completions": {"model": "chat", "messages": [{"role": "user", "content": "plan rid={rid}"}]},
    "/chat/completions": {"model": "chat", "messages": [{"role": "user", "content": "plan rid={rid}"}]},
    "/v1/completions": {"model": "chat", "prompt": "plan rid={rid}"},
    "/v1/embeddings": {"model": "chat", "input": "plan rid={rid}"},
    "/v1/messages": {"model": "chat", "max_tokens": 16, "messages": [{"role": "user", "content": "plan rid={rid}"}]},
    "/v1/responses": {"model": "chat", "input": "plan rid={rid}"},
}
CHAT = "/v1/chat/completions"
IMG = "data:image/png;base64,iVBORw0KGgo="
TOOL = {
    "type": "function",
    "function": {
        "name": "fetch",
        "description": "d",
        "parameters": {"type": "object", "properties": {"url": {"type": "string"}, "api_base": {"type": "string"}}},
    },
}
USER_CONFIG = {
    "model_list": [
        {
            "model_name": "chat",
            "litellm_params": {
                "model": "openai/x",
                "api_base": "{attacker}",
                "api_key": "os.environ/LITELLM_MASTER_KEY",
            },
            "model_info": {"id": "chat.local-a"},
        }
    ]
}
UPGRADE = (
    ("Upgrade", "websocket"),
    ("Connection", "Upgrade"),
    ("Sec-WebSocket-Version", "13"),
    ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
)
DROP = object()  # a `body` value that removes the field
FED = "x-llmkube-federated"
PEER_GROUPS = ("chat-peer", "chat-mixed")  # model groups with a peer site's Router among their backends


class V(NamedTuple):
    """One vector. body: fields merged into the route's base body (DROP removes one); raw: the exact body."""

    name: str
    status: int
    outcome: str
    body: dict | None = None
    path: str = CHAT
    zone: str = "sovereign"
    team: str | None = "app"
    cls: str | None = "restricted"
    headers: tuple = ()
    method: str = "POST"
    raw: str | None = None
    ctype: str | None = "application/json"
    pause: float = 0.0  # seconds to wait first (lets a success callback count the previous row's tokens)


BASE_URL_ROUTES = [
    V(
        f"base_url+api_key on {p}{' stream' if s else ''}",
        400,
        "refused",
        {"base_url": "{attacker}", "api_key": "sk-attacker", **({"stream": True} if s else {})},
        p,
        z,
    )
    for p in BASE
    for s in (False, True)
    if not (s and p == "/v1/embeddings")
    for z in ("sovereign", "external")
]
PAGES = [
    "/openapi.json",
    "/ui/",
    "/sso/key/generate",
    "/debug/asyncio-tasks",
    "/.well-known/litellm-ui-config",
    "/docs",
    "/redoc",
    "/metrics",
    "/health",
    "/health/services",
    "/routes",
    "/key/info",
    "/v1/model/info",
    "/model_group/info",
    "/global/spend",
    "/swagger/",
    "/v1/realtime",
    "/mcp/",
    "/v1/files",
    "/v1/batches",
    "/openai/v1/models",
    "/v1/chat/completions/",
    "/V1/chat/completions",
    "//v1/chat/completions",
]
PASSTHROUGH = [
    "/openai/v1/chat/completions",
    "/anthropic/v1/messages",
    "/gemini/v1beta/models/x:generateContent",
    "/langfuse/api/public/ingestion",
    "/openai_passthrough/v1/chat/completions",
    "/key/generate",
    "/model/new",
    "/config/update",
    "/v1/images/generations",
    "/v1/audio/speech",
    "/v1/rerank",
    "/utils/token_counter",
    "/v1/moderations",
    "/v1/vector_stores",
    "/v1/batches",
    "/engines/chat-ext/chat/completions",
    "/openai/deployments/chat-ext/chat/completions",
    "/v1/engines/chat/completions",
    "/v1/messages/count_tokens",
    "/v1/responses/compact",
]

VECTORS: list[V] = [
    # first, inside one rate window: a reused request id changes nothing; tpm counts the team's tokens
    # (8 per call, limit 10)
    V("tpm 1", 200, "ok", team="tight", headers=(("x-request-id", "tight"),)),
    V("tpm 2, same request id", 200, "ok", team="tight", headers=(("x-request-id", "tight"),), pause=0.5),
    V("tpm 3, over the limit", 429, "refused", team="tight", headers=(("x-request-id", "tight"),), pause=0.5),
    # controls: ordinary clients of every route are served, and audited ok
    V("chat", 200, "ok"),
    V("chat stream", 200, "ok", {"stream": True, "stream_options": {"include_usage": True}}),
    V("chat without /v1", 200, "ok", path="/chat/completions"),
    V("completions", 200, "ok", path="/v1/completions"),
    V("completions stream is audited", 200, "ok", {"stream": True}, "/v1/completions"),
    V("embeddings", 200, "ok", path="/v1/embeddings"),
    V("anthropic messages", 200, "ok", path="/v1/messages"),
    V("anthropic messages stream", 200, "ok", {"stream": True}, "/v1/messages"),
    V(
        "anthropic messages with x-api-key",
        200,
        "ok",
        path="/v1/messages",
        team=None,
        headers=(("x-api-key", KEYS["app"]),),
    ),
    V("responses", 200, "ok", path="/v1/responses"),
    V("models list", 200, "ok", path="/v1/models", method="GET", ctype=None),
    V(
        "inline image",
        200,
        "ok",
        {
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "rid={rid}"},
                        {"type": "image_url", "image_url": {"url": IMG}},
                    ],
                }
            ]
        },
    ),
    V("tool whose schema names url and api_base", 200, "ok", {"tools": [TOOL], "tool_choice": "auto"}),
    V(
        "json schema format",
        200,
        "ok",
        {
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": "x",
                    "schema": {"type": "object", "properties": {"base_url": {"type": "string"}}},
                },
            }
        },
    ),
    V("public to the provider", 200, "ok", {"model": "chat-ext"}, zone="external", cls="public"),
    V("bound public team, no header", 200, "ok", {"model": "chat-ext"}, zone="external", team="bot", cls=None),
    V("confidential stays local in the external zone", 200, "ok", zone="external", cls="confidential"),
    V(
        "LiteLLM control headers are dropped",
        200,
        "ok",
        headers=(
            ("x-litellm-tags", "external"),
            ("x-litellm-timeout", "0.001"),
            ("x-litellm-num-retries", "9"),
            ("x-litellm-spend-logs-metadata", '{"a": 1}'),
            ("User-Agent", "claude-cli/1.0"),
            ("x-litellm-model-id", "chat-ext.ext"),
        ),
    ),
    V("responses stream", 200, "ok", {"stream": True}, "/v1/responses"),
    V("client call id is replaced", 200, "ok", headers=(("x-litellm-call-id", "chosen-by-client"),)),
    V("client call id reused", 200, "ok", headers=(("x-litellm-call-id", "chosen-by-client"),)),
    V("request id reused 1", 200, "ok", headers=(("x-request-id", "same"),)),
    V("request id reused 2", 200, "ok", headers=(("x-request-id", "same"),)),
    V("request id reused 3", 400, "refused", {"base_url": "{attacker}"}, headers=(("x-request-id", "same"),)),
    # where the call goes: every URL-carrying field is refused, top level or nested
    *BASE_URL_ROUTES,
    V("api_base", 400, "refused", {"api_base": "{attacker}"}),
    V("base_url to the provider, restricted", 400, "refused", {"base_url": "{ext}"}, zone="external"),
    V(
        "base_url public key",
        400,
        "refused",
        {"base_url": "{attacker}", "model": "chat-ext"},
        zone="external",
        team="bot",
        cls="public",
    ),
    V(
        "client fallbacks with base_url",
        400,
        "refused",
        {"fallbacks": [{"model": "chat", "base_url": "{attacker}", "api_key": "x"}], "mock_testing_fallbacks": True},
    ),
    V("client fallbacks to the provider group", 400, "refused", {"fallbacks": ["chat-ext"]}, zone="external"),
    V("context window fallbacks", 400, "refused", {"context_window_fallbacks": [{"chat": ["chat-ext"]}]}),
    V("mock_testing_fallbacks", 400, "refused", {"mock_testing_fallbacks": True}, zone="external"),
    V("user_config with a spoofed deployment id", 400, "refused", {"user_config": USER_CONFIG}),
    V("model_list in body", 400, "refused", {"model_list": USER_CONFIG["model_list"]}),
    V("model_info id", 400, "refused", {"model_info": {"id": "chat.local-a"}}),
    V("litellm_params", 400, "refused", {"litellm_params": {"api_base": "{attacker}"}}),
    V("extra_body api_base", 400, "refused", {"extra_body": {"api_base": "{attacker}"}}),
    V("extra_headers", 400, "refused", {"extra_headers": {"x-forwarded-host": "attacker"}}),
    V("specific_deployment", 400, "refused", {"specific_deployment": True, "model": "chat-ext.ext"}),
    V("deployment id as model", 404, "no_route", {"model": "chat-ext.ext"}, zone="external"),
    V("provider-prefixed model", 404, "no_route", {"model": "openai/gpt-x"}, zone="external"),
    V("provider model name", 404, "no_route", {"model": "gpt-x"}, zone="external"),
    V("provider group in the sovereign zone", 404, "no_route", {"model": "chat-ext"}),
    V("metadata tags", 400, "refused", {"metadata": {"tags": ["external"]}}, zone="external"),
    V("metadata model group", 400, "refused", {"metadata": {"model_group": "chat-ext"}}, zone="external"),
    V("litellm_metadata", 400, "refused", {"litellm_metadata": {"tags": ["external"]}}, "/v1/messages"),
    V("tags", 400, "refused", {"tags": ["external"]}),
    V("mock_response", 400, "refused", {"mock_response": "hi"}),
    V("litellm_credential_name", 400, "refused", {"litellm_credential_name": "any"}),
    V("custom_llm_provider", 400, "refused", {"custom_llm_provider": "openai"}),
    V("api_version", 400, "refused", {"api_version": "2024-01-01"}),
    V("timeout and retries", 400, "refused", {"timeout": 0.001, "num_retries": 9}),
    V(
        "image by URL",
        400,
        "refused",
        {
            "messages": [
                {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "{attacker}/rid={rid}.png"}}]}
            ]
        },
    ),
    V(
        "image by URL, string form",
        400,
        "refused",
        {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": "{attacker}/x.png"}]}]},
    ),
    V(
        "anthropic image by URL",
        400,
        "refused",
        {
            "messages": [
                {"role": "user", "content": [{"type": "image", "source": {"type": "url", "url": "{attacker}/x.png"}}]}
            ]
        },
        "/v1/messages",
    ),
    V(
        "file by id",
        400,
        "refused",
        {
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "file", "file": {"file_id": "bGl0ZWxsbV9wcm94eTptb2RlbF9pZDpjaGF0LWV4dC5leHQ"}}
                    ],
                }
            ]
        },
    ),
    V("responses web search tool", 400, "refused", {"tools": [{"type": "web_search_preview"}]}, "/v1/responses"),
    V(
        "responses mcp tool",
        400,
        "refused",
        {"tools": [{"type": "mcp", "server_label": "x", "server_url": "{attacker}"}]},
        "/v1/responses",
    ),
    V(
        "responses previous_response_id",
        400,
        "refused",
        {"previous_response_id": "resp_bGl0ZWxsbTpjaGF0LWV4dC5leHQ"},
        "/v1/responses",
    ),
    V(
        "responses input file by URL",
        400,
        "refused",
        {"input": [{"role": "user", "content": [{"type": "input_file", "file_url": "{attacker}/x.pdf"}]}]},
        "/v1/responses",
    ),
    V("prompt field on chat", 400, "refused", {"prompt": "x"}),
    V("embeddings stream", 400, "refused", {"stream": True}, "/v1/embeddings"),
    # what it carries: server-side secret references anywhere
    V(
        "api_key os.environ master key",
        400,
        "refused",
        {"base_url": "{attacker}", "api_key": "os.environ/LITELLM_MASTER_KEY"},
    ),
    V(
        "api_key os.environ provider key, public key",
        400,
        "refused",
        {"model": "chat-ext", "api_key": "os.environ/LLMKUBE_PROVIDER_KEY_EXT"},
        zone="external",
        team="bot",
        cls="public",
    ),
    V("api_key os.environ team key only", 400, "refused", {"api_key": "os.environ/LLMKUBE_TEAM_KEY_APP"}),
    V("user os.environ", 400, "refused", {"user": "os.environ/LITELLM_MASTER_KEY"}),
    V("oidc file reference", 400, "refused", {"user": "oidc/file//etc/passwd"}),
    V(
        "message os.environ",
        400,
        "refused",
        {"messages": [{"role": "user", "content": " os.environ/LITELLM_MASTER_KEY"}]},
    ),
    # bodies LiteLLM's parsers could read differently
    V("array body", 400, "refused", raw='[{"model": "chat"}]'),
    V("malformed JSON", 400, "refused", raw='{"model": "chat", '),
    V(
        "duplicate model key",
        400,
        "refused",
        raw='{"model": "chat", "model": "chat-ext", "messages": []}',
        zone="external",
    ),
    V(
        "NaN",
        400,
        "refused",
        raw='{"model": "chat", "temperature": NaN, "messages": [{"role": "user", "content": "x"}]}',
    ),
    V(
        "form body",
        415,
        "refused",
        raw="model=chat&api_base=http%3A%2F%2F127.0.0.1%3A9&messages=x",
        ctype="application/x-www-form-urlencoded",
    ),
    V(
        "JSON that is also a form",
        415,
        "refused",
        raw='{"model":"chat","x":"&api_base=http://127.0.0.1:9&"}',
        ctype="application/x-www-form-urlencoded",
    ),
    V("text/plain body", 415, "refused", ctype="text/plain"),
    V("not UTF-8", 400, "refused", raw='{"model": "chat", "user": "\udcff"}'),
    V("model ?query", 400, "refused", path=CHAT + "?model=chat-ext", team="narrow", zone="external", cls="public"),
    V("key ?query", 400, "refused", path=CHAT + "?key=sk-master-0", team=None),
    # who and which class: one key source, one class line
    V(
        "two class lines, unbound key",
        400,
        "refused",
        {"model": "chat-ext"},
        zone="external",
        cls=None,
        headers=(("x-llmkube-classification", "public"), ("x-llmkube-classification", "restricted")),
    ),
    V(
        "two class lines, bound key",
        400,
        "refused",
        {"model": "chat-ext"},
        zone="external",
        team="bot",
        cls=None,
        headers=(("x-llmkube-classification", "public"), ("x-llmkube-classification", "public")),
    ),
    V(
        "class list in one line means restricted",
        503,
        "fail_closed",
        {"model": "chat-ext"},
        zone="external",
        cls="public, restricted",
    ),
    V("restricted to the provider group", 503, "fail_closed", {"model": "chat-ext"}, zone="external"),
    V("internal to the provider group", 503, "fail_closed", {"model": "chat-ext"}, zone="external", cls="internal"),
    V("x-litellm-api-key over Authorization", 400, "refused", headers=(("x-litellm-api-key", "Bearer sk-master-0"),)),
    V("x-litellm-api-key alone", 401, "refused", team=None, headers=(("x-litellm-api-key", "Bearer sk-app-1"),)),
    V("azure api-key header", 401, "refused", team=None, headers=(("api-key", "sk-app-1"),)),
    V("google key header", 401, "refused", team=None, headers=(("x-goog-api-key", "sk-app-1"),)),
    V("apim key header", 401, "refused", team=None, headers=(("Ocp-Apim-Subscription-Key", "sk-app-1"),)),
    V("x-api-key and Authorization", 400, "refused", headers=(("x-api-key", "sk-master-0"),)),
    V("Authorization twice", 400, "refused", headers=(("Authorization", "Bearer sk-master-0"),)),
    V("Basic auth", 401, "refused", team=None, headers=(("Authorization", "Basic c2stYXBwLTE="),)),
    V("no key", 401, "refused", team=None),
    V("wrong key", 401, "refused", team=None, headers=(("Authorization", "Bearer sk-wrong"),)),
    V("team outside its zone (its key is unknown here)", 401, "refused", team="bot", cls="public"),
    V("team model allowlist", 403, "refused", {"model": "chat-ext"}, team="narrow", zone="external", cls="public"),
    V(
        "team model allowlist via fallbacks",
        400,
        "refused",
        {"fallbacks": ["chat-ext"]},
        team="narrow",
        zone="external",
        cls="public",
    ),
    # where it is sent: one route table, nothing else answers
    *[V(f"page {p}", 404, "refused", path=p, method="GET", team=None, ctype=None) for p in PAGES],
    *[V(f"pass-through {p}", 404, "refused", {"model": "chat"}, p) for p in PASSTHROUGH],
    V("realtime websocket", 403, "refused", path="/v1/realtime", method="GET", ctype=None, headers=UPGRADE),
    V("HEAD", 405, "refused", method="HEAD", ctype=None),
    V("OPTIONS", 405, "refused", method="OPTIONS", ctype=None),
    V("PUT", 405, "refused", method="PUT"),
    V("models ?query", 400, "refused", path="/v1/models?return_wildcard_routes=true", method="GET", ctype=None),
    # federation: a peer site's Router takes classes up to its ceiling; a federated request goes no further
    V("confidential to the peer site", 200, "ok", {"model": "chat-peer"}, cls="confidential"),
    V("restricted to the peer site", 503, "fail_closed", {"model": "chat-peer"}),
    V("no class to the peer site", 503, "fail_closed", {"model": "chat-peer"}, cls=None),
    V("peer group in the external zone", 404, "no_route", {"model": "chat-peer"}, zone="external", cls="public"),
    V(
        "federated, to the peer site",
        503,
        "fail_closed",
        {"model": "chat-peer"},
        cls="public",
        headers=((FED, "edge"),),
    ),
    V(
        "federated, own site's name, to the peer site",
        503,
        "fail_closed",
        {"model": "chat-peer"},
        cls="confidential",
        headers=((FED, "lab"),),
    ),
    V("federated, mixed group", 200, "ok", {"model": "chat-mixed"}, cls="confidential", headers=((FED, "edge"),)),
    V("federated, mixed group again", 200, "ok", {"model": "chat-mixed"}, cls="internal", headers=((FED, "dc"),)),
    V(
        "federated header twice",
        400,
        "refused",
        {"model": "chat-peer"},
        cls="confidential",
        headers=((FED, "edge"), (FED, "edge")),
    ),
    V(
        "federated header twice, two sites",
        400,
        "refused",
        {"model": "chat-peer"},
        cls="confidential",
        headers=((FED, "edge"), (FED, "dc")),
    ),
    V("federated header, a host name", 400, "refused", {"model": "chat-peer"}, headers=((FED, "edge.example.com"),)),
    V("federated header, upper case", 400, "refused", {"model": "chat-peer"}, headers=((FED, "EDGE"),)),
    V("federated header, a list", 400, "refused", {"model": "chat-peer"}, headers=((FED, "edge, dc"),)),
    V("federated header, empty", 400, "refused", {"model": "chat-peer"}, headers=((FED, ""),)),
    V("federated header, no key", 400, "refused", team=None, headers=((FED, "edge edge"),)),
    V(
        "extra_headers naming the federated header",
        400,
        "refused",
        {"model": "chat-peer", "extra_headers": {FED: "edge"}},
        cls="confidential",
    ),
    V(
        "extra_headers with another class for the peer",
        400,
        "refused",
        {"model": "chat-peer", "extra_headers": {"x-llmkube-classification": "public"}},
        cls="confidential",
    ),
]


def _fill(value, subs: dict):
    if isinstance(value, str):
        for k, v in subs.items():
            value = value.replace("{" + k + "}", v)
        return value
    if isinstance(value, list):
        return [_fill(v, subs) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, subs) for k, v in value.items() if v is not DROP}
    return value


def _request(v: V, rid: str, subs: dict) -> tuple[list[tuple[str, str]], bytes | None]:
    headers = [("x-request-id", rid)] if not any(h[0] == "x-request-id" for h in v.headers) else []
    if v.team:
        headers.append(("Authorization", f"Bearer {KEYS[v.team]}"))
    if v.cls is not None:
        headers.append(("x-llmkube-classification", v.cls))
    headers += list(v.headers)
    if v.ctype:
        headers.append(("Content-Type", v.ctype))
    if v.raw is not None:
        return headers, v.raw.encode("utf-8", "surrogateescape")
    if v.method in ("GET", "HEAD", "OPTIONS"):
        return headers, None
    base = BASE.get(v.path.split("?")[0], BASE[CHAT])
    return headers, json.dumps(_fill({**base, **(v.body or {})}, {**subs, "rid": rid})).encode()


def _protected(v: V) -> bool:
    """Whether the request's class is confidential or restricted (missing or unknown: restricted)."""
    cls = (v.cls or "").strip().lower()
    if v.cls is None and v.team == "bot" and not v.headers:
        cls = "public"  # the team's bound class
    return cls not in ("public", "internal")


def test_vectors(stack, capsys):
    proxies, ups = stack.proxies, stack.ups
    before = {z: len(p.audit_lines()) for z, p in proxies.items()}
    peer_before = len(ups["peer"].rids)
    subs = {"attacker": ups["attacker"].base_url, "ext": ups["ext"].base_url}
    results = []
    if time.time() % 60 > 50:  # the tpm rows must fall into one rate window (windows are wall-clock minutes)
        time.sleep(61 - time.time() % 60)
    for i, v in enumerate(VECTORS):
        rid = f"adv{i}"
        time.sleep(v.pause)
        headers, body = _request(v, rid, subs)
        status, resp_headers, payload = send(proxies[v.zone].port, v.method, v.path, headers, body)
        results.append((i, v, rid, status, resp_headers.get("x-litellm-call-id"), payload))
    expected_lines = {z: before[z] + sum(1 for r in results if r[1].zone == z) for z in proxies}
    deadline = time.time() + 15  # ok lines are written once LiteLLM's success callback has run
    while time.time() < deadline and any(len(p.audit_lines()) < expected_lines[z] for z, p in proxies.items()):
        time.sleep(0.2)
    lines = {z: p.audit_lines()[before[z] :] for z, p in proxies.items()}
    by_call = {}
    for zone_lines in lines.values():
        for line in zone_lines:
            by_call.setdefault(line["call_id"], []).append(line)
    failures = []
    for _i, v, rid, status, call_id, payload in results:
        if call_id is None:  # a websocket handshake refused before any HTTP response: match by request id
            found = [ln for ln in lines[v.zone] if ln.get("request_id") == rid]
        else:
            found = by_call.get(call_id, [])
        got = found[0]["outcome"] if len(found) == 1 else f"{len(found)} audit lines"
        if status != v.status or got != v.outcome:
            failures.append(
                f"{v.name}: status {status} (want {v.status}), audit {got} (want {v.outcome}); {payload[:160]!r}"
            )
        if call_id in ("chosen-by-client",):
            failures.append(f"{v.name}: the client chose the call id")
    extra = {z: len(lines[z]) - sum(1 for r in results if r[1].zone == z) for z in proxies}
    protected = [rid for i, v, rid, *_ in results if v.zone == "sovereign" or _protected(v)]
    leaked = [rid for rid in protected if rid in set(ups["ext"].rids)]
    secrets = {name: sum(u.containing(s) for s in CLIENT_SECRETS) for name, u in ups.items()}
    provider_key = {name: u.containing(PROVIDER_KEY) for name, u in ups.items() if name != "ext"}
    peer_key = {name: u.containing(PEER_KEY) + u.containing(ROGUE_KEY) for name, u in ups.items() if name != "peer"}
    ambient = sum(u.containing("sk-ambient-6") for u in ups.values())
    # rows the peer may have received: served, to a group with the peer among its backends, not federated
    may_reach_peer = {
        rid
        for _i, v, rid, status, *_ in results
        if status == 200 and (v.body or {}).get("model") in PEER_GROUPS and not any(h[0] == FED for h in v.headers)
    }
    at_peer = set(ups["peer"].rids[peer_before:])
    with capsys.disabled():
        served = sum(1 for r in results if r[3] == 200)
        print(
            f"\nrouter adversarial suite: {len(VECTORS)} vectors ({served} served, {len(VECTORS) - served} refused); "
            f"attacker host requests {ups['attacker'].total}; protected payloads at the provider {len(leaked)}; "
            f"client/master keys at upstreams {sum(secrets.values())}; provider key outside the provider "
            f"{sum(provider_key.values())}; rows served by the peer site {len(at_peer)}; "
            f"audit lines {sum(len(x) for x in lines.values())} for {len(results)} "
            f"requests (extra {sum(extra.values())}); mismatches {len(failures)}"
        )
    assert not failures, "\n".join(failures)
    assert ups["attacker"].total == 0, ups["attacker"].seen[:3]
    assert not leaked, f"protected payloads reached the provider: {leaked}"
    assert not any(secrets.values()), f"client or master keys reached upstreams: {secrets}"
    assert not any(provider_key.values()) and not ambient, f"the provider key left for another host: {provider_key}"
    assert not any(peer_key.values()), f"this router's key at a peer reached another host: {peer_key}"
    assert at_peer <= may_reach_peer, f"rows that reached the peer site's Router: {sorted(at_peer - may_reach_peer)}"
    assert at_peer, "no row reached the peer site's Router (the served peer rows did not go there)"
    assert not any(extra.values()), f"audit lines without a request: {extra}"
