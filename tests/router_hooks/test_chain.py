"""Federation end to end: this site's real sovereign zone calling the peer site's real Router over TLS.

`lab` (the session's stack, stack.py) routes `chat-hq` to `hq`'s Router (peer_site.py), a real LiteLLM proxy
serving HTTPS as its planned Deployment says, with a certificate from the CA `lab` mounts as peerCaSecret.
Required: a request crosses both routers with each site's own credentials only (hq's local service gets hq's
placeholder key, nothing of the client's, of lab's or of the key lab holds at hq), and each router writes
the line that says where it came from and where it went; a class above the ceiling hq gave lab's team is
refused by hq itself and is a failure at lab; a request lab federated to hq is never sent on by hq, even
where its group falls back to hq's own route back to lab, which hq's own clients may take.
"""

from __future__ import annotations

import http.client
import json
import time

import pytest

from llmkube_iac.plan.router_config import LOCAL_API_KEY
from llmkube_iac.router_hooks.llmkube_policy import CLASS_HEADER

from . import peer_site as hq
from .harness import Proxy, send
from .stack import BODIES, CHAT, CLIENT_SECRETS, HQ_KEY, KEYS, PEER_KEY, PROVIDER_KEY, ROGUE_KEY, SITE

pytestmark = pytest.mark.router

# no upstream of either site may see any of these: clients' and masters' keys, the keys between the sites
SECRETS = (*CLIENT_SECRETS, HQ_KEY, *hq.SECRETS.values(), PEER_KEY, ROGUE_KEY, PROVIDER_KEY, "sk-ambient-6")


def _post(proxy: Proxy, key: str, rid: str, model: str, cls: str, path: str = CHAT, **fields):
    """(status, call id, response body) of one client request to a router's sovereign zone."""
    body = {"model": model, **json.loads(json.dumps(BODIES[path]).replace("{rid}", rid)), **fields}
    headers = [("Authorization", f"Bearer {key}"), ("Content-Type", "application/json"), ("x-request-id", rid)]
    status, resp, payload = send(
        proxy.port, "POST", path, [*headers, (CLASS_HEADER, cls)], json.dumps(body).encode(), tls=proxy.tls
    )
    return status, resp.get("x-litellm-call-id"), payload


def _lines(proxy: Proxy, since: int, count: int) -> list[dict]:
    """The audit lines after the first `since`, once there are `count` of them (or after 15 s)."""
    deadline = time.time() + 15
    while True:
        lines = proxy.audit_lines()[since:]
        if len(lines) >= count or time.time() > deadline:
            return lines
        time.sleep(0.1)


def _calls(proxy: Proxy, call_ids: list[str]) -> dict[str, dict]:
    """The audit line of each call id (waiting up to 15 s for ok lines, written after the success callback)."""
    deadline = time.time() + 15
    while True:
        found = {ln["call_id"]: ln for ln in proxy.audit_lines() if ln["call_id"] in call_ids}
        if len(found) == len(set(call_ids)) or time.time() > deadline:
            return found
        time.sleep(0.1)


def _at(upstream, rid: str) -> list[dict]:
    with upstream.lock:
        return [r for r in upstream.requests if f"rid={rid}".encode() in r["body"]]


def _leaks(request: dict) -> list[str]:
    raw = json.dumps(request["headers"]).encode() + request["body"]
    return [s for s in SECRETS if s.encode() in raw]


def _wrong(line: dict, **want) -> dict:
    return {k: line.get(k) for k in want if line.get(k) != want[k]}


def test_a_request_crosses_both_routers_with_each_sites_own_credentials(stack, peer_site):
    lab, general = stack.proxies["sovereign"], peer_site.general
    cases = [(path, False) for path in BODIES] + [(CHAT, True)]
    problems, sent = [], []
    for i, (path, stream) in enumerate(cases):
        rid, name = f"chain-a{i}", f"{path}{' stream' if stream else ''}"
        before = len(peer_site.proxy.audit_lines())
        status, call_id, payload = _post(
            lab, KEYS["app"], rid, "chat-hq", hq.LAB_CEILING, path, **({"stream": True} if stream else {})
        )
        at_hq = _lines(peer_site.proxy, before, 1)
        sent.append((name, call_id))
        if status != 200 or (path != "/v1/embeddings" and b"general" not in payload):
            problems.append(f"{name}: status {status} {payload[:300]!r}")
        got = _at(general, rid)
        if len(got) != 1:
            problems.append(f"{name}: hq's service received {len(got)} requests")
        else:
            headers = [(k.lower(), v) for k, v in got[0]["headers"]]
            if [v for k, v in headers if k == "authorization"] != [f"Bearer {LOCAL_API_KEY}"]:
                problems.append(f"{name}: hq's service got {[v for k, v in headers if k == 'authorization']}")
            if _leaks(got[0]) or any(k.startswith("x-llmkube-") for k, _ in headers):
                problems.append(f"{name}: hq's service received {_leaks(got[0])} {headers}")
        if len(at_hq) != 1:
            problems.append(f"{name}: {len(at_hq)} audit lines at hq")
        else:
            wrong = _wrong(
                at_hq[0],
                outcome="ok",
                team=SITE,
                from_site=SITE,
                classification=hq.LAB_CEILING,
                locality="local",
                backend="general",
                to_site=None,
                jurisdiction="FR",
            )
            if wrong:
                problems.append(f"{name}: hq's audit line {wrong}")
    lines = _calls(lab, [c for _, c in sent])
    for name, call_id in sent:
        wrong = _wrong(
            lines.get(call_id, {}),
            outcome="ok",
            team="app",
            from_site=None,
            classification=hq.LAB_CEILING,
            locality="peer",
            backend="hq",
            to_site="hq",
            jurisdiction="FR",
            model_group="chat-hq",
        )
        if wrong:
            problems.append(f"{name}: lab's audit line {wrong}")
    assert not problems, "\n".join(problems)


def test_a_class_above_the_ceiling_hq_gave_lab_is_refused_by_hq(stack, peer_site):
    lab, general = stack.proxies["sovereign"], peer_site.general
    before, lab_before = len(peer_site.proxy.audit_lines()), len(lab.audit_lines())
    # restricted: above lab's own route to hq, refused at lab (fail closed); confidential: hq's front refuses it
    restricted = _post(lab, KEYS["app"], "chain-b0", "chat-hq", "restricted")
    status, call_id, payload = _post(lab, KEYS["app"], "chain-b1", "chat-hq", "confidential")
    at_hq = _lines(peer_site.proxy, before, 1)
    assert restricted[0] == 503 and b"fail_closed" in restricted[2], restricted
    assert status >= 400 and b"from general" not in payload, (status, payload[:300])
    assert not _at(general, "chain-b0") and not _at(general, "chain-b1")
    [line] = at_hq  # the restricted request never reached hq; the confidential one was refused there
    assert not _wrong(line, outcome="refused", status=403, team=SITE, from_site=SITE, classification="confidential")
    assert "exceeds team lab ceiling internal" in line["reason"], line
    lines = {ln["call_id"]: ln for ln in _lines(lab, lab_before, 2)}
    assert lines[restricted[1]]["outcome"] == "fail_closed", lines
    failed = lines[call_id]
    assert not _wrong(failed, outcome="error", locality="peer", backend="hq", to_site="hq"), failed


def test_hq_does_not_send_a_request_from_lab_on_but_its_own_clients_may_take_its_route_to_lab(stack, peer_site):
    lab, local = stack.proxies["sovereign"], (stack.ups["local-a"], stack.ups["local-b"])
    before, lab_before = len(peer_site.proxy.audit_lines()), len(lab.audit_lines())
    # chat-broken's service is down: hq's group falls back to chat-lab, hq's route back to lab's Router
    status, call_id, payload = _post(lab, KEYS["app"], "chain-c0", "chat-hq-broken", "internal")
    [federated] = _lines(peer_site.proxy, before, 1)
    assert status >= 500 and b"from local" not in payload, (status, payload[:300])
    assert not _wrong(federated, outcome="fail_closed", team=SITE, from_site=SITE, model_group="chat-broken")
    assert "cleared for internal data outside site lab's peers" in (federated["reason"] or ""), federated
    assert not any(_at(u, "chain-c0") for u in local), "a request lab federated to hq came back to lab"
    # the same group for a client of hq's own: served by lab's Router over hq's route, with hq's key there
    status, direct_id, payload = _post(peer_site.proxy, hq.KEYS["app"], "chain-c1", "chat-broken", "internal")
    assert status == 200 and b"from local" in payload.replace(b'"', b""), (status, payload[:300])
    [direct] = [ln for ln in _lines(peer_site.proxy, before, 2) if ln["call_id"] == direct_id]
    assert not _wrong(direct, outcome="ok", team="app", from_site=None, locality="peer", backend="lab", to_site=SITE)
    lines = _lines(lab, lab_before, 2)
    assert [ln["outcome"] for ln in lines if ln["call_id"] == call_id] == ["error"], lines
    [at_lab] = [ln for ln in lines if ln["from_site"] is not None]
    assert not _wrong(at_lab, outcome="ok", team="hq", from_site="hq", classification="internal", locality="local")
    [got] = [r for u in local for r in _at(u, "chain-c1")]
    keys = [v for k, v in got["headers"] if k.lower() == "authorization"]
    assert not _leaks(got) and keys == [f"Bearer {LOCAL_API_KEY}"], got["headers"]


def test_hq_answers_only_over_tls(peer_site):
    before = len(peer_site.proxy.audit_lines())
    with pytest.raises((http.client.HTTPException, OSError)):
        send(peer_site.proxy.port, "GET", "/v1/models", [("Authorization", f"Bearer {hq.KEYS['app']}")], timeout=10)
    status, _, _ = send(peer_site.proxy.port, "GET", "/health/liveliness", [], tls=peer_site.proxy.tls)
    assert status == 200 and len(peer_site.proxy.audit_lines()) == before
