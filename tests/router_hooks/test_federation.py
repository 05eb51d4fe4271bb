"""Federation at run time: the sovereign zone's real LiteLLM proxy calling fake peer sites' Routers over TLS.

The peer upstreams serve HTTPS on 127.0.0.1 (stack.py): `peer` with a certificate from the CA the zone
mounts as SSL_CERT_FILE, `rogue` with one from a CA it does not trust. Required: a call to a peer
carries this router's key there, the request's class and this site's name (the guard's headers) and
nothing of the client's; a class above the peer's ceiling, or a request another site federated here,
never reaches a peer; an untrusted certificate ends the call before any byte of it is sent; every
request has exactly one audit line saying where it went and where it came from.
"""

from __future__ import annotations

import json
import time

import pytest

from llmkube_iac.router_hooks.llmkube_policy import CLASS_HEADER, FEDERATED_HEADER

from .harness import send
from .stack import BODIES, CHAT, CLIENT_SECRETS, KEYS, PEER_KEY, PROVIDER_KEY, ROGUE_KEY, SITE

pytestmark = pytest.mark.router

VERIFY_FAILED = "CERTIFICATE_VERIFY_FAILED"  # Python's ssl error, in the proxy's log of the failed call


def _post(stack, rid: str, model: str, cls: str | None, path: str = CHAT, extra: tuple = (), **fields):
    """(status, call id, response body) of one request to the sovereign zone."""
    body = {"model": model, **json.loads(json.dumps(BODIES[path]).replace("{rid}", rid)), **fields}
    headers = [("Authorization", f"Bearer {KEYS['app']}"), ("Content-Type", "application/json"), ("x-request-id", rid)]
    if cls is not None:
        headers.append((CLASS_HEADER, cls))
    status, resp, payload = send(
        stack.proxies["sovereign"].port, "POST", path, headers + list(extra), json.dumps(body).encode()
    )
    return status, resp.get("x-litellm-call-id"), payload


def _audit(stack, call_ids: list[str]) -> dict[str, list[dict]]:
    """Every audit line of each call id (waiting for ok lines, written after LiteLLM's success callback)."""
    deadline = time.time() + 15
    while True:
        lines = stack.proxies["sovereign"].audit_lines()
        found = {c: [ln for ln in lines if ln["call_id"] == c] for c in call_ids}
        if all(found.values()) or time.time() > deadline:
            return found
        time.sleep(0.2)


def _at(upstream, rid: str) -> list[dict]:
    with upstream.lock:
        return [r for r in upstream.requests if f"rid={rid}".encode() in r["body"]]


def test_a_peer_gets_this_routers_key_the_class_and_the_site(stack):
    peer = stack.ups["peer"]
    cases = [(path, "confidential", False) for path in BODIES] + [(CHAT, "confidential", True), (CHAT, "public", False)]
    sent, problems = [], []
    for i, (path, cls, stream) in enumerate(cases):
        rid = f"fed-a{i}"
        status, call_id, payload = _post(stack, rid, "chat-peer", cls, path, **({"stream": True} if stream else {}))
        if status != 200:
            problems.append(f"{path} {cls}: status {status} {payload[:200]!r}")
        sent.append((rid, call_id, path, cls))
    audits = _audit(stack, [c for _, c, _, _ in sent])
    for rid, call_id, path, cls in sent:
        got = _at(peer, rid)
        if len(got) != 1:
            problems.append(f"{path} {cls}: the peer received {len(got)} requests")
            continue
        lines = [(k.lower(), v) for k, v in got[0]["headers"]]
        ours = sorted((k, v) for k, v in lines if k.startswith("x-llmkube-"))
        if ours != sorted([(CLASS_HEADER, cls), (FEDERATED_HEADER, SITE)]):
            problems.append(f"{path} {cls}: llmkube headers at the peer {ours}")
        if [v for k, v in lines if k == "authorization"] != [f"Bearer {PEER_KEY}"]:
            problems.append(f"{path} {cls}: the peer did not get exactly this router's key as its bearer")
        raw = json.dumps(lines).encode() + got[0]["body"]
        leaked = [s for s in (*CLIENT_SECRETS, PROVIDER_KEY, ROGUE_KEY) if s.encode() in raw]
        if leaked:
            problems.append(f"{path} {cls}: the peer received {leaked}")
        line = audits[call_id]
        if len(line) != 1:
            problems.append(f"{path} {cls}: {len(line)} audit lines")
            continue
        want = {"outcome": "ok", "locality": "peer", "backend": "peer", "to_site": "dc", "jurisdiction": "FR"}
        want.update(from_site=None, classification=cls, model_group="chat-peer")
        wrong = {k: line[0].get(k) for k in want if line[0].get(k) != want[k]}
        if wrong:
            problems.append(f"{path} {cls}: audit {wrong} (want {want})")
    assert not problems, "\n".join(problems)


def test_a_class_above_the_peers_ceiling_never_reaches_it(stack):
    peer = stack.ups["peer"]
    results = [(rid, *_post(stack, rid, "chat-peer", cls)) for rid, cls in (("fed-b0", "restricted"), ("fed-b1", None))]
    audits = _audit(stack, [r[2] for r in results])
    for rid, status, call_id, payload in results:
        assert status == 503 and b"fail_closed" in payload, (rid, status, payload[:200])
        assert not _at(peer, rid)
        assert [ln["outcome"] for ln in audits[call_id]] == ["fail_closed"], audits[call_id]


def test_a_federated_request_is_never_sent_to_a_peer(stack):
    peer = stack.ups["peer"]
    hop = ((FEDERATED_HEADER, "edge"),)
    results = {
        "to the peer group": (_post(stack, "fed-c0", "chat-peer", "confidential", extra=hop), 503, "fail_closed"),
        "public to the peer group": (_post(stack, "fed-c1", "chat-peer", "public", extra=hop), 503, "fail_closed"),
        "to a local group": (_post(stack, "fed-c2", "chat", "confidential", extra=hop), 200, "ok"),
    }
    # a group with a local and a peer deployment: the guard drops the peer, the local one serves
    for i in range(6):
        results[f"mixed {i}"] = (_post(stack, f"fed-m{i}", "chat-mixed", "confidential", extra=hop), 200, "ok")
    audits = _audit(stack, [r[0][1] for r in results.values()])
    problems = []
    for name, ((status, call_id, payload), want_status, want_outcome) in results.items():
        line = audits[call_id]
        if status != want_status or [ln["outcome"] for ln in line] != [want_outcome]:
            problems.append(f"{name}: status {status}, audit {[ln['outcome'] for ln in line]} {payload[:160]!r}")
        elif line[0]["from_site"] != "edge" or (want_status == 200 and line[0]["locality"] != "local"):
            problems.append(f"{name}: audit from_site {line[0]['from_site']}, locality {line[0]['locality']}")
    reached = [rid for rid in ["fed-c0", "fed-c1", "fed-c2", *(f"fed-m{i}" for i in range(6))] if _at(peer, rid)]
    assert not reached, f"federated requests reached the peer: {reached}"
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "values",
    [("Edge",), ("edge.example",), ("",), ("-edge",), ("7edge",), ("e" * 64,), ("edge site",), ("edge", "edge")],
    ids=["upper case", "dotted", "empty", "leading dash", "leading digit", "64 characters", "space", "twice"],
)
def test_a_malformed_federated_header_is_refused(stack, values):
    status, call_id, payload = _post(
        stack, "fed-bad", "chat", "confidential", extra=tuple((FEDERATED_HEADER, v) for v in values)
    )
    error = json.loads(payload)["error"]
    assert status == 400 and error["param"] == FEDERATED_HEADER and FEDERATED_HEADER in error["message"], payload
    assert [ln["outcome"] for ln in _audit(stack, [call_id])[call_id]] == ["refused"]


def test_an_untrusted_peer_certificate_ends_the_call_before_any_byte_of_it(stack):
    rogue, log = stack.ups["rogue"], stack.proxies["sovereign"].log
    before, verify_failed = len(rogue.handshake_failures), log.read_text(errors="replace").count(VERIFY_FAILED)
    status, call_id, payload = _post(stack, "fed-d0", "chat-rogue", "confidential")
    assert status >= 500, (status, payload[:200])
    [line] = _audit(stack, [call_id])[call_id]
    assert line["outcome"] == "error" and line["locality"] == "peer" and line["backend"] == "rogue", line
    # the call was attempted over TLS, the proxy refused the chain, and nothing followed in plaintext
    failures = rogue.handshake_failures[before:]
    assert failures and all("HTTP_REQUEST" not in f for f in failures), failures
    assert log.read_text(errors="replace").count(VERIFY_FAILED) > verify_failed, "no certificate failure logged"
    assert rogue.total == 0 and not rogue.requests and rogue.containing(ROGUE_KEY) == 0
