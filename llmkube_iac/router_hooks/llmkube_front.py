"""The zone's front: an ASGI layer around LiteLLM's whole app, so nothing is answered unchecked or
unaudited.

Why a front and not only LiteLLM hooks: LiteLLM answers some requests before any hook runs (its
own body checks, unknown routes, docs and UI pages), trusts client-chosen ids (`x-litellm-call-id`),
and turns body fields into call arguments. The front sees every request first and
- answers the kubelet probes itself; refuses every other path, method and query string;
- takes the key from exactly one header, the class from exactly one header line and a peer Router's
  calling site (`x-llmkube-federated`) from at most one;
- authenticates the team, applies zone, class ceiling, model allowlist and rpm/tpm;
- admits only the body fields of llmkube_policy's tables, re-serialises the body it checked, and
  passes LiteLLM only the headers it knows, with its own call id as `x-litellm-call-id`;
- writes exactly one audit line per request, keyed on that call id, whatever the outcome
  (after LiteLLM's success/failure callback has enriched the record, or at once for refusals).
`install()` wraps the running app's middleware stack; the auth hook calls it at import, so a proxy
whose front cannot be installed does not start.
"""
from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import traceback
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import llmkube_common as common  # noqa: E402
import llmkube_policy as policy  # noqa: E402
from llmkube_policy import Refusal  # noqa: E402

LOG_WAIT_SECONDS = 10.0  # how long an answered call waits for LiteLLM's logging callback
FAILURE_GRACE_SECONDS = 1.0
_TASKS: set = set()


def _json_response(status: int, payload: dict, call_id: str) -> tuple[dict, dict]:
    body = json.dumps(payload, separators=(",", ":")).encode()
    start = {"type": "http.response.start", "status": status,
             "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                         (policy.CALL_ID_HEADER.encode(), call_id.encode())]}
    return start, {"type": "http.response.body", "body": body, "more_body": False}


async def _read_body(receive) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Refusal(400, None, "client disconnected before the body was complete")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > policy.MAX_BODY_BYTES:
            raise Refusal(413, None, f"body larger than {policy.MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _admit(scope: dict, lines: dict, raw: bytes, rec: dict) -> dict | None:
    """Every check before LiteLLM; returns the checked body (None for GET) or raises Refusal."""
    path, method = scope["path"], scope["method"]
    route = policy.ROUTES.get(path)
    if route is None or path not in common.RULES["allowedPaths"]:
        raise Refusal(404 if route is None else 403, "path", f"path {path} is not served by this router")
    want, family = route
    rec["family"] = family
    if method != want:
        raise Refusal(405, "method", f"{method} is not accepted on {path}: use {want}")
    policy.check_query(scope.get("query_string", b""))
    key = policy.api_key_of(lines)
    header = policy.class_header(lines)
    rec["from_site"] = policy.federated_header(lines)  # a peer Router's call: never sent on to another site
    team = common.find_team(key) if key else None
    if team is None:
        raise Refusal(401, "authorization", "unknown or missing API key: send Authorization: Bearer <team key>")
    rec.update(team=team["name"], key_alias=team.get("alias") or team["name"])
    cls, understood = common.parse_class(header)
    if team.get("boundClass"):
        # a bound class can be raised by the header, never lowered
        cls = max(team["boundClass"], cls if understood else team["boundClass"], key=common.rank)
    rec.update(classification=cls, header_understood=understood)
    body = None
    if method == "POST":
        if not policy.content_type_ok(lines):
            raise Refusal(415, "content-type", "send the body as Content-Type: application/json")
        body = policy.parse_body(raw)
        policy.check_body(family, body)
        rec["model_group"] = body.get("model")
        rec["stream"] = bool(body.get("stream"))
    elif raw:
        raise Refusal(400, "body", f"{method} {path} takes no body")
    if common.ZONE not in team["zones"]:
        raise Refusal(403, "zone", f"team {team['name']} may not use the {common.ZONE} zone")
    if common.rank(cls) > common.rank(team["maxClass"]):
        raise Refusal(403, policy.CLASS_HEADER, f"class {cls} exceeds team {team['name']} ceiling {team['maxClass']}")
    model = body.get("model") if body else None
    if model is not None:
        if team["models"] and model not in team["models"]:
            raise Refusal(403, "model", f"team {team['name']} may not call model {model}")
        if model not in common.GROUPS:
            rec["no_route"] = True
            raise Refusal(404, "model", f"model group {model!r} is not served in the {common.ZONE} zone "
                          f"(served: {', '.join(sorted(common.GROUPS))})")
    limited = common.WINDOWS.admit(team)
    if limited:
        raise Refusal(429, "team", limited)
    return body


def _headers_for_litellm(lines: dict, call_id: str, body: bytes | None) -> list[tuple[bytes, bytes]]:
    out = [(name.encode("latin-1"), values[0].encode("latin-1")) for name, values in lines.items()
           if name in policy.KEPT_HEADERS]
    out.append((policy.CALL_ID_HEADER.encode(), call_id.encode()))
    if body is not None:
        out += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return out


def outcome_of(rec: dict) -> str:
    if rec.get("refused"):
        return "no_route" if rec.get("no_route") else "refused"
    if rec.get("no_route"):
        return "no_route"
    status = rec.get("status") or 500
    if status == 200 and not rec.get("failure") and (rec.get("logged") or rec.get("family") == "models"):
        return "ok"  # served by a cleared deployment, even where the guard dropped others of the group
    if rec.get("excluded"):
        return "fail_closed"
    if 400 <= status < 500 and status not in (408, 429) and not rec.get("upstream_called"):
        return "refused"  # LiteLLM refused it itself
    return "error"


def write_audit(rec: dict) -> None:
    """The one audit line of a call; its record is dropped afterwards."""
    common.close_call(rec["call_id"])
    status = rec.get("status") or 500
    outcome = outcome_of(rec)
    if outcome == "ok" and rec.get("family") != "models":
        status = 200
    common.audit(call_id=rec["call_id"], request_id=rec.get("request_id"), team=rec.get("team"),
                 key_alias=rec.get("key_alias"), classification=rec.get("classification"), method=rec.get("method"),
                 path=rec.get("path"), model_group=rec.get("model_group"), backend=rec.get("backend"),
                 locality=rec.get("locality"), region=rec.get("region"), jurisdiction=rec.get("jurisdiction"),
                 from_site=rec.get("from_site"), to_site=rec.get("to_site"),
                 prompt_tokens=rec.get("prompt_tokens"), completion_tokens=rec.get("completion_tokens"),
                 tokens=rec.get("tokens") or 0, cost=rec.get("cost") or 0.0,
                 latency_ms=round((time.time() - rec["t0"]) * 1000, 1), stream=bool(rec.get("stream")),
                 outcome=outcome, status=status, reason=(rec.get("reason") or rec.get("failure") or None))


async def _finish_later(rec: dict) -> None:
    """Wait for LiteLLM's success callback; a failure callback (an attempt before a fallback) gets
    a short grace for the success that may follow."""
    deadline = time.monotonic() + LOG_WAIT_SECONDS
    while not rec.get("logged"):
        left = deadline - time.monotonic()
        if rec.get("failure"):
            left = min(left, FAILURE_GRACE_SECONDS)
        if left <= 0:
            break
        rec["event"].clear()
        try:
            await asyncio.wait_for(rec["event"].wait(), left)
        except asyncio.TimeoutError:
            break
    if not rec.get("logged") and not rec.get("failure"):
        rec["failure"] = f"no logging callback from LiteLLM within {LOG_WAIT_SECONDS:g}s after the response"
    write_audit(rec)


def _finish(rec: dict) -> None:
    if rec.get("forwarded") and rec.get("family") != "models" and rec.get("status") == 200 \
            and not rec.get("logged"):
        task = asyncio.get_running_loop().create_task(_finish_later(rec))
        _TASKS.add(task)
        task.add_done_callback(_TASKS.discard)
    else:
        write_audit(rec)


class Front:
    """ASGI app around LiteLLM's middleware stack."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        kind = scope.get("type")
        if kind == "lifespan":
            return await self.app(scope, receive, send)
        call_id = str(uuid.uuid4())
        if kind != "http":  # websockets (realtime) are not served
            ids = policy.header_lines(scope.get("headers") or []).get(policy.REQUEST_ID_HEADER) or [None]
            common.audit(call_id=call_id, request_id=common.clean_id(ids[0]), path=scope.get("path"),
                         method="WEBSOCKET", outcome="refused", status=403, reason="websocket routes are not served",
                         tokens=0, cost=0.0, latency_ms=0)
            return await send({"type": "websocket.close", "code": 1008})
        path, method = scope.get("path", ""), scope.get("method", "")
        if path in policy.PROBES and method in ("GET", "HEAD"):
            return await self._probe(path, call_id, send)
        lines = policy.header_lines(scope.get("headers") or [])
        request_ids = lines.get(policy.REQUEST_ID_HEADER) or [None]
        rec = common.open_call(call_id, path=path, method=method, request_id=common.clean_id(request_ids[0]))
        try:
            raw = await _read_body(receive)
            body = _admit(scope, lines, raw, rec)
        except Refusal as refusal:
            rec.update(refused=True, status=refusal.status, reason=refusal.message)
            try:
                start, payload = _json_response(refusal.status, {"error": {
                    "message": f"llmkube: {refusal.message}", "type": "llmkube_refused", "param": refusal.field,
                    "code": refusal.status}}, call_id)
                await send(start)
                await send(payload)
            finally:
                write_audit(rec)
            return
        except BaseException as exc:
            rec.update(status=500, failure=f"front: {type(exc).__name__}")
            write_audit(rec)
            raise
        await self._forward(scope, receive, send, lines, body, rec)

    async def _forward(self, scope, receive, send, lines, body, rec):
        call_id = rec["call_id"]
        data = None if body is None else json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        inner = dict(scope)
        inner["headers"] = _headers_for_litellm(lines, call_id, data)
        inner["query_string"] = b""
        inner["llmkube"] = {"call_id": call_id, "team": rec["team"], "class": rec["classification"],
                            "understood": rec["header_understood"]}
        if body is not None:
            inner["parsed_body"] = (tuple(body), body)  # LiteLLM's own cache of the parsed body
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": data or b"", "more_body": False}
            return await receive()

        async def send_through(message):
            if message["type"] == "http.response.start":
                rec["status"] = message.get("status")
                headers = [(k, v) for k, v in message.get("headers") or [] if k.lower() != b"x-litellm-call-id"]
                message = {**message, "headers": headers + [(b"x-litellm-call-id", call_id.encode())]}
            await send(message)

        rec["forwarded"] = True
        try:
            await self.app(inner, replay, send_through)
        except Exception as exc:  # LiteLLM raised out of its app: answer (if still possible) with the call id
            rec.setdefault("failure", f"{type(exc).__name__}: {str(exc)[:200]}")
            if rec.get("status") is None:
                rec["status"] = 500
                start, payload = _json_response(500, {"error": {
                    "message": "llmkube: the proxy failed on this request", "type": "llmkube_error",
                    "param": None, "code": 500}}, call_id)
                await send(start)
                await send(payload)
            traceback.print_exc()
        except BaseException as exc:  # cancelled: the client went away
            rec.setdefault("failure", f"{type(exc).__name__}")
            rec.setdefault("status", 499)
            raise
        finally:
            _finish(rec)

    async def _probe(self, path: str, call_id: str, send) -> None:
        ready = True
        if path.endswith("readiness"):
            server = sys.modules.get("litellm.proxy.proxy_server")
            ready = server is not None and getattr(server, "llm_router", None) is not None
        start, payload = _json_response(200 if ready else 503, {"status": "ok" if ready else "starting"}, call_id)
        await send(start)
        await send(payload)


def install() -> None:
    """Put the front around the running proxy app (idempotent); fail loudly when it cannot be."""
    from litellm.proxy import proxy_server

    app = proxy_server.app
    stack = app.middleware_stack
    if isinstance(stack, Front):
        return
    app.middleware_stack = Front(stack if stack is not None else app.build_middleware_stack())
