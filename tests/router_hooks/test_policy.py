"""The front's request tables and checks (llmkube_policy), without a proxy: fast, and exhaustive where
hypothesis can be. The same module runs inside the proxy; test_adversarial drives it there."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmkube_iac.router_hooks import llmkube_policy as policy
from llmkube_iac.router_hooks.llmkube_policy import Refusal
from llmkube_iac.spec.base import DNS_LABEL
from llmkube_iac.spec.router import DEFAULT_ALLOWED_PATHS, RouterSpec

CHAT = {"model": "chat", "messages": [{"role": "user", "content": "hi"}]}


def _refused(family: str, body: dict) -> Refusal:
    with pytest.raises(Refusal) as info:
        policy.check_body(family, body)
    return info.value


def test_tables_are_consistent():
    assert set(DEFAULT_ALLOWED_PATHS) == set(policy.ROUTES)
    for path, (method, family) in policy.ROUTES.items():
        assert method in ("GET", "POST") and family in policy.FIELDS and family in policy.REQUIRED, path
        assert set(policy.REQUIRED[family]) <= set(policy.FIELDS[family]), family
    for fields in policy.FIELDS.values():
        assert not set(fields) & policy.CONTROL_KEYS
        assert not any(f.endswith(("url", "uri")) for f in fields)


def test_ordinary_bodies_pass():
    policy.check_body(
        "chat",
        {
            **CHAT,
            "stream": True,
            "stream_options": {"include_usage": True},
            "temperature": 0,
            "tools": [
                {
                    "type": "function",
                    "function": {
                        "name": "f",
                        "parameters": {"type": "object", "properties": {"url": {"type": "string"}}},
                    },
                }
            ],
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "look"},
                        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}},
                    ],
                }
            ],
        },
    )
    policy.check_body(
        "messages",
        {
            "model": "m",
            "max_tokens": 5,
            "system": "s",
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "x", "cache_control": {"type": "ephemeral"}}]}
            ],
        },
    )
    policy.check_body("embedding", {"model": "m", "input": ["a", "b"], "encoding_format": "float"})
    # what LiteLLM's /v1/messages bridge sends a peer Router's responses route (test_chain)
    policy.check_body("responses", {"model": "m", "input": "x", "include": ["reasoning.encrypted_content"]})


@pytest.mark.parametrize("value", [{"a": 1}, [1], "os.environ/LITELLM_MASTER_KEY", ["oidc/file//etc/passwd"]])
def test_include_takes_names_of_output_parts_only(value):
    assert _refused("responses", {"model": "m", "input": "x", "include": value}).field.startswith("include")


@pytest.mark.parametrize(
    "body, field",
    [
        ({**CHAT, "base_url": "http://x"}, "base_url"),
        ({**CHAT, "fallbacks": ["chat-ext"]}, "fallbacks"),
        ({**CHAT, "stream": "yes"}, "stream"),
        ({**CHAT, "n": True}, "n"),
        ({**CHAT, "user": "os.environ/LITELLM_MASTER_KEY"}, "user"),
        (
            {
                **CHAT,
                "messages": [
                    {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "http://x/a.png"}}]}
                ],
            },
            "messages[0].content[0].image_url.url",
        ),
        ({**CHAT, "messages": [{"role": "user", "content": "x", "api_base": "http://x"}]}, "messages[0].api_base"),
        ({**CHAT, "tools": [{"type": "web_search"}]}, "tools[0].type"),
        (
            {
                **CHAT,
                "response_format": {"type": "json_schema", "json_schema": {"schema": {"x": "oidc/file//etc/passwd"}}},
            },
            "response_format.json_schema.schema.x",
        ),
        ({"model": "chat"}, "messages"),
    ],
)
def test_refusals_name_the_field(body, field):
    assert _refused("chat", body).field == field


def test_parse_body_refuses_what_parsers_disagree_on():
    for raw in (
        b'{"model": "a", "model": "b"}',
        b'{"t": NaN}',
        b'{"t": Infinity}',
        b"[1]",
        b'"x"',
        b"\xff",
        b'{"model": ',
        b"{" * 5000 + b"}" * 5000,
    ):
        with pytest.raises(Refusal):
            policy.parse_body(raw)
    assert policy.parse_body(json.dumps(CHAT).encode()) == CHAT


def test_headers_one_key_one_class():
    lines = policy.header_lines([(b"Authorization", b"Bearer k"), (b"X-LLMKube-Classification", b"public")])
    assert policy.api_key_of(lines) == "k" and policy.class_header(lines) == "public"
    for extra in ((b"x-litellm-api-key", b"Bearer m"), (b"x-api-key", b"m"), (b"authorization", b"Bearer m")):
        with pytest.raises(Refusal) as info:
            policy.api_key_of(policy.header_lines([(b"Authorization", b"Bearer k"), extra]))
        assert info.value.status == 400
    with pytest.raises(Refusal):
        policy.class_header(policy.header_lines([(b"x-llmkube-classification", b"public")] * 2))
    with pytest.raises(Refusal) as info:
        policy.api_key_of(policy.header_lines([(b"api-key", b"k")]))
    assert info.value.status == 401
    assert policy.api_key_of({}) is None
    assert policy.content_type_ok({"content-type": ["application/json; charset=utf-8"]})
    assert not policy.content_type_ok({"content-type": ["application/x-www-form-urlencoded"]})


def test_federated_header_one_line_one_site_name():
    assert policy.SITE_LABEL.pattern == DNS_LABEL.pattern  # site names are the spec's DNS labels
    assert policy.federated_header({}) is None
    assert policy.federated_header(policy.header_lines([(b"X-LLMKube-Federated", b"edge-1")])) == "edge-1"
    for values in ([b"edge", b"edge"], [b"Edge"], [b""], [b"edge\n"], [b"e" * 64], [b"edge.example"], [b"1edge"]):
        with pytest.raises(Refusal) as info:
            policy.federated_header(policy.header_lines([(b"x-llmkube-federated", v) for v in values]))
        assert info.value.status == 400 and info.value.field == policy.FEDERATED_HEADER, values
    assert policy.FEDERATED_HEADER not in policy.KEPT_HEADERS and policy.CLASS_HEADER not in policy.KEPT_HEADERS


@given(st.text(max_size=70))
def test_federated_header_accepts_exactly_site_names(value):
    lines = {policy.FEDERATED_HEADER: [value]}
    if DNS_LABEL.fullmatch(value) is None:
        with pytest.raises(Refusal):
            policy.federated_header(lines)
    else:
        assert policy.federated_header(lines) == value


def test_allowed_paths_must_be_routes_the_front_checks():
    base = {
        "name": "gw",
        "masterKeySecret": {"name": "k", "key": "m"},
        "backends": [{"name": "l", "service": "s"}],
        "modelGroups": [{"name": "chat", "backends": ["l"]}],
    }
    assert RouterSpec.model_validate({**base, "allowedPaths": ["/v1/chat/completions"]})
    with pytest.raises(ValueError, match="not routes the router can check"):
        RouterSpec.model_validate({**base, "allowedPaths": ["/v1/chat/completions", "/v1/images/generations"]})


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=12,
)


@given(key=st.text(min_size=1, max_size=20).filter(lambda k: k not in policy.FIELDS["chat"]), value=JSON)
def test_any_other_top_level_field_is_refused(key, value):
    assert _refused("chat", {**CHAT, key: value}).field == key


@given(
    value=JSON,
    prefix=st.sampled_from(["os.environ/", "OS.ENVIRON/", " oidc/", "os.environ/"]),
    where=st.sampled_from(["user", "messages", "tools", "tool_choice", "response_format"]),
)
def test_a_secret_reference_anywhere_is_refused(value, prefix, where):
    secret = prefix + "LITELLM_MASTER_KEY"
    nested = {
        "user": secret,
        "messages": [{"role": "user", "content": [{"type": "text", "text": secret}]}],
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {"d": [value, secret]}}}],
        "tool_choice": {"type": "function", "function": {"name": secret}},
        "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"k": secret}}},
    }
    assert _refused("chat", {**CHAT, where: nested[where]}).field.startswith(where)
