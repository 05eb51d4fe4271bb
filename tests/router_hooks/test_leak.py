"""The leak test: the real LiteLLM proxy, per zone, with exactly the files its ConfigMap carries.

Fake OpenAI upstreams on loopback stand for two local services and one external provider; every
request carries its id in the prompt so the external fake can tell which requests reached it.
Required: no protected (confidential/restricted) request, and no sovereign-zone request, ever
reaches the external upstream; public requests fall back to it when the locals are killed;
every request has exactly one audit line with the right outcome; an rpm limit yields 429; each
zone's Prometheus counters equal its audit lines. The targeted vectors are in test_adversarial.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from llmkube_iac.router_hooks.llmkube_policy import ROUTES

from .stack import KEYS

pytestmark = pytest.mark.router

CLASSES = ("public", "internal", "confidential", "restricted")
# header value -> what it must mean (missing, malformed and unknown mean restricted)
HEADERS = {
    "public": "public",
    "internal": "internal",
    "confidential": "confidential",
    "restricted": "restricted",
    None: "restricted",
    "": "restricted",
    "PUBLIC": "public",
    "publicc": "restricted",
    "pub lic": "restricted",
    "public,restricted": "restricted",
    "secret": "restricted",
    "0": "restricted",
    "p\xfcblic": "restricted",
}
PASSTHROUGH = (
    "/openai/v1/chat/completions",
    "/anthropic/v1/messages",
    "/gemini/v1beta/models/x:generateContent",
    "/vertex_ai/v1/projects/p/locations/l/publishers/google/models/m:generateContent",
    "/bedrock/model/m/invoke",
    "/cohere/v1/chat",
    "/mistral/v1/chat/completions",
    "/azure/openai/deployments/d/chat/completions",
    "/vllm/v1/chat/completions",
    "/langfuse/api/public/ingestion",
    "/assemblyai/v2/transcript",
    "/openai_passthrough/v1/chat/completions",
    "/key/generate",
    "/model/new",
    "/config/update",
    "/v1/files",
    "/v1/batches",
    "/v1/images/generations",
    "/v1/audio/speech",
)
SERVED = (
    "/v1/chat/completions",
    "/chat/completions",
    "/v1/completions",
    "/v1/embeddings",
    "/v1/responses",
    "/v1/messages",
)


def _call(base: str, path: str, body: dict | None, headers: dict) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        base + path,
        data=data,
        headers={"Content-Type": "application/json", **headers},
        method="POST" if data is not None else "GET",
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def _body(path: str, model: str, rid: str, stream: bool, rng: random.Random) -> dict:
    text = f"hello rid={rid}"
    if path.endswith("embeddings"):
        return {"model": model, "input": text}
    if path.endswith("/completions") and "chat" not in path:
        return {"model": model, "prompt": text}
    if path.endswith("responses"):
        return {"model": model, "input": text}
    body = {"model": model, "messages": [{"role": "user", "content": text}], "stream": stream}
    if path.endswith("messages"):
        body["max_tokens"] = 16
    extra = rng.choice([None, None, None, "tags", "specific", "api_base", "user_fallbacks"])
    if extra == "tags":
        body["metadata"] = {"tags": [rng.choice(["default", "unknown-tag", "external", "public"])]}
    elif extra == "specific":
        body["specific_deployment"] = True
    elif extra == "api_base":
        body["api_base"] = "http://127.0.0.1:9/v1"  # client-side credentials must be refused
    elif extra == "user_fallbacks":
        body["fallbacks"] = ["chat-ext"]
    return body


def _requests(phase: str, n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    counter = itertools.count()
    paths = SERVED
    out = []
    for _ in range(n):
        rid = f"{phase}-{next(counter)}"
        zone = rng.choice(("sovereign", "external"))
        team = rng.choice(("app", "app", "app", "bot", "bad-key", "no-key"))
        header = rng.choice(list(HEADERS))
        roll = rng.random()
        path = rng.choice(PASSTHROUGH) if roll < 0.12 else rng.choice(paths)
        model = rng.choice(("chat", "chat", "chat", "chat-ext", "nope", "chat-ext.ext"))
        stream = rng.random() < 0.35 and "chat" in path
        headers = {"x-request-id": rid}
        if team == "bad-key":
            headers["Authorization"] = "Bearer sk-wrong"
        elif team != "no-key":
            headers["Authorization"] = f"Bearer {KEYS[team]}"
        if header is not None:
            headers["x-llmkube-classification"] = header
        cls = HEADERS[header]
        if team == "bot":  # bound to public: a header may raise the class, never lower it
            cls = HEADERS[header] if header is not None and _understood(header) else "public"
        out.append(
            {
                "rid": rid,
                "zone": zone,
                "team": team,
                "path": path,
                "model": model,
                "stream": stream,
                "headers": headers,
                "class": cls,
                "body": _body(path, model, rid, stream, rng),
            }
        )
    return out


def _understood(header: str) -> bool:
    return header.strip().lower() in CLASSES


def _drive(proxies, reqs: list[dict]) -> None:
    def one(r):
        r["status"], r["response"] = _call(proxies[r["zone"]].url, r["path"], r["body"], r["headers"])

    with ThreadPoolExecutor(12) as pool:
        list(pool.map(one, reqs))


def _expected(r: dict) -> str | None:
    """The outcome a request must be audited with, in the order the front checks (None: ok or error)."""
    unknown_key = r["team"] in ("bad-key", "no-key") or (r["team"] == "bot" and r["zone"] == "sovereign")
    if r["path"] not in ROUTES or unknown_key:
        return "refused"  # unknown path, unknown key (bot's key is not known in the sovereign zone)
    if set(r["body"]) - {"model", "messages", "stream", "max_tokens", "prompt", "input"}:
        return "refused"  # a LiteLLM control field (metadata, specific_deployment, api_base, fallbacks)
    if r["model"] not in ("chat", "chat-ext") or (r["zone"] == "sovereign" and r["model"] == "chat-ext"):
        return "no_route"
    if r["zone"] == "external" and r["model"] == "chat-ext" and r["class"] != "public":
        return "fail_closed"
    if r["team"] == "narrow":
        return "fail_closed"  # only sent with the locals down: chat's fallback is outside its models
    return None


def _brief(r: dict) -> tuple:
    return (
        r["rid"],
        r["zone"],
        r["team"],
        r["path"],
        r["model"],
        r["class"],
        r["stream"],
        r.get("status"),
        r.get("response", b"")[:120],
    )


def test_no_protected_request_leaks(stack, capsys):
    proxies, ups = stack.proxies, stack.ups
    before = {z: len(p.audit_lines()) for z, p in proxies.items()}
    up = _requests("up", 700, seed=5)
    _drive(proxies, up)
    ups["local-a"].stop()
    ups["local-b"].stop()
    try:
        down = _requests("down", 500, seed=7)
        # team narrow may call chat but not chat-ext: the configured fallback may not take it there
        down += [
            {
                "rid": f"narrow-{i}",
                "zone": "external",
                "team": "narrow",
                "path": "/v1/chat/completions",
                "model": "chat",
                "stream": False,
                "class": "public",
                "headers": {
                    "x-request-id": f"narrow-{i}",
                    "Authorization": f"Bearer {KEYS['narrow']}",
                    "x-llmkube-classification": "public",
                },
                "body": {"model": "chat", "messages": [{"role": "user", "content": f"rid=narrow-{i}"}]},
            }
            for i in range(5)
        ]
        _drive(proxies, down)
    finally:
        ups["local-a"].start()
        ups["local-b"].start()
    # the rpm limit: team slow has rpm 3 per pod
    burst = []
    for i in range(10):
        rid = f"rpm-{i}"
        status, _ = _call(
            proxies["external"].url,
            "/v1/chat/completions",
            {"model": "chat-ext", "messages": [{"role": "user", "content": f"rid={rid}"}]},
            {"Authorization": f"Bearer {KEYS['slow']}", "x-request-id": rid, "x-llmkube-classification": "public"},
        )
        burst.append({"rid": rid, "status": status, "zone": "external"})
    allreqs = up + down
    sent = {z: sum(1 for r in allreqs + burst if r["zone"] == z) for z in proxies}
    deadline = time.time() + 20  # ok lines are written once LiteLLM's success callback has run
    while time.time() < deadline and any(len(p.audit_lines()) - before[z] < sent[z] for z, p in proxies.items()):
        time.sleep(0.2)
    ext_rids = set(ups["ext"].rids)
    protected = {r["rid"] for r in allreqs if r["class"] in ("confidential", "restricted")}
    sovereign = {r["rid"] for r in allreqs if r["zone"] == "sovereign"}
    leaked = ext_rids & protected
    leaked_sovereign = ext_rids & sovereign
    public_fallback = [
        r
        for r in down
        if r["zone"] == "external" and r["rid"] in ext_rids and r["model"] == "chat" and r["status"] == 200
    ]
    everything = {z: p.audit_lines() for z, p in proxies.items()}
    audits = {z: lines[before[z] :] for z, lines in everything.items()}
    per_rid: dict[str, list[dict]] = {}
    for lines in audits.values():
        for line in lines:
            per_rid.setdefault(line["request_id"], []).append(line)
    missing = [r["rid"] for r in allreqs + burst if len(per_rid.get(r["rid"], [])) == 0]
    duplicated = [rid for rid, lines in per_rid.items() if len(lines) > 1]
    extra = [rid for rid in per_rid if rid not in {r["rid"] for r in allreqs + burst}]
    wrong = []
    for r in allreqs:
        line = (per_rid.get(r["rid"]) or [{}])[0]
        want = _expected(r)
        if want and line.get("outcome") != want:
            wrong.append(
                (
                    r["rid"],
                    r["zone"],
                    r["team"],
                    r["path"],
                    r["model"],
                    r["class"],
                    want,
                    line.get("outcome"),
                    r["status"],
                )
            )
        if not want and (line.get("outcome") == "ok") != (r["status"] == 200):
            wrong.append((r["rid"], "ok-vs-status", line.get("outcome"), r["status"]))
        if line.get("outcome") == "ok" and line.get("classification") != r["class"]:
            wrong.append((r["rid"], "class", r["class"], line.get("classification")))
    outcomes: dict[str, int] = {}
    for lines in per_rid.values():
        outcomes[lines[0]["outcome"]] = outcomes.get(lines[0]["outcome"], 0) + 1
    limited = [b for b in burst if b["status"] == 429]
    limited_audited = [b for b in limited if (per_rid.get(b["rid"]) or [{}])[0].get("outcome") == "refused"]
    with capsys.disabled():
        print(
            f"\nrouter leak test: {len(allreqs) + len(burst)} requests "
            f"({len(up)} with locals up, {len(down)} with locals killed, {len(burst)} rpm burst); "
            f"streaming {sum(r['stream'] for r in allreqs)}, pass-through/unserved paths "
            f"{sum(r['path'] in PASSTHROUGH for r in allreqs)}, protected {len(protected)}"
        )
        print(
            f"  upstream requests: local-a {ups['local-a'].total}, local-b {ups['local-b'].total}, "
            f"external {ups['ext'].total}"
        )
        print(
            f"  protected requests reaching external: {len(leaked)}; sovereign-zone requests reaching external: "
            f"{len(leaked_sovereign)}; public fallbacks to external with locals down: {len(public_fallback)}"
        )
        print(
            f"  audit lines: {sum(len(v) for v in audits.values())} for {len(allreqs) + len(burst)} requests; "
            f"missing {len(missing)}, duplicated {len(duplicated)}, without a request {len(extra)}, "
            f"wrong outcome {len(wrong)}; outcomes {outcomes}"
        )
        print(f"  rpm burst (limit 3/min): {len(limited)} x 429, {len(limited_audited)} audited as refused")
    assert not leaked, f"protected requests reached the external upstream: {sorted(leaked)[:10]}"
    assert not leaked_sovereign, f"sovereign requests reached the external upstream: {sorted(leaked_sovereign)[:10]}"
    assert len(public_fallback) > 0, "public requests did not fall back to the external upstream"
    narrow = [r["rid"] for r in down if r["team"] == "narrow" and (r["rid"] in ext_rids or r["status"] == 200)]
    assert not narrow, f"a configured fallback took a team to a model group it may not call: {narrow}"
    assert not missing, f"requests without an audit line: {[_brief(r) for r in allreqs if r['rid'] in missing[:12]]}"
    assert not duplicated, f"requests with several audit lines: {duplicated[:10]}"
    assert not wrong, f"wrong audit outcomes: {wrong[:12]}"
    assert limited and len(limited) == len(limited_audited), "rpm limit did not yield audited 429s"
    assert not extra, f"audit lines without a request: {extra[:10]}"
    posts = sum(n for path, n in ups["ext"].counts.items() if path != "/v1/models")  # GET /v1/models: startup probe
    assert posts == len(ups["ext"].rids), "external upstream saw requests without a request id (pass-through?)"
    # the Prometheus endpoint of each zone counts exactly what the audit lines say
    for zone, proxy in proxies.items():
        metrics = proxy.metrics()
        by_outcome = Counter()
        for key, value in metrics.items():
            if key.startswith("llmkube_router_requests_total{"):
                by_outcome[re.search(r'outcome="([^"]*)"', key).group(1)] += int(value)
        assert by_outcome == Counter(line["outcome"] for line in everything[zone]), (zone, by_outcome)
        count = sum(v for k, v in metrics.items() if k.startswith("llmkube_router_request_seconds_count{"))
        assert count == len(everything[zone])
        with capsys.disabled():
            print(f"  {zone} zone metrics: requests_total {sum(by_outcome.values())} by outcome {dict(by_outcome)}")
