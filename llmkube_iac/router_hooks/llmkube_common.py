"""Shared by the front, the auth hook and the guard: the zone's rules, the audit writer, rate windows
and the per-call records.

LiteLLM loads each hook file with its own module spec; all of them import this module by name (the
config directory is put on sys.path) so they share one copy of the state below. A call record is
created by the front under the proxy's own call id (the front sets LiteLLM's `x-litellm-call-id`),
enriched by the guard's callbacks, and written as exactly one audit line by the front.
"""
from __future__ import annotations

import asyncio
import hmac
import json
import os
import sys
import threading
import time

import llmkube_metrics  # a sibling file in the same config directory

HERE = os.path.dirname(os.path.abspath(__file__))
RULES = json.load(open(os.path.join(HERE, "llmkube_router.json"), encoding="utf-8"))
ZONE = RULES["zone"]
CLASSES = ("public", "internal", "confidential", "restricted")
DEPLOYMENTS = {d["id"]: d for d in RULES["deployments"]}
GROUPS = {g["name"]: g for g in RULES["groups"]}
TEAMS = {t["name"]: t for t in RULES["teams"]}
_LOCK = threading.Lock()
_AUDIT_FILE = RULES.get("auditFile")
# call id -> what is known about the call (team, class, backend, tokens, flags); removed once audited
CALLS: dict[str, dict] = {}


llmkube_metrics.serve()


def rank(cls: str) -> int:
    return CLASSES.index(cls)


def parse_class(raw: str | None) -> tuple[str, bool]:
    """(class, understood). Missing, malformed or unknown values mean restricted: fail closed."""
    value = (raw or "").strip().lower()
    if value in CLASSES:
        return value, True
    return "restricted", False


def allowed_for(cls: str, deployment: dict) -> bool:
    """A deployment may receive class `cls` when its ceiling is at least that class."""
    return rank(deployment["maxClass"]) >= rank(cls)


def cleared(cls: str, deployment: dict, from_site: str | None) -> bool:
    """Whether a deployment may take the request: its ceiling covers the class, and a request another site's
    Router federated here (`from_site`) goes to none of this router's peers (federation is one hop)."""
    return allowed_for(cls, deployment) and not (from_site and deployment.get("locality") == "peer")


def base_of(deployment: dict) -> str:
    """The deployment's base URL as the pod's env sets it (the same value LiteLLM resolves)."""
    return norm_url(os.environ.get(deployment["apiBaseEnv"]) or "")


def norm_url(url: object) -> str:
    return str(url or "").strip().rstrip("/").lower()


def key_of(deployment: dict) -> str:
    """The key LiteLLM sends to this deployment: the local placeholder or the provider's Secret."""
    env = deployment.get("apiKeyEnv")
    return os.environ.get(env, "") if env else deployment.get("apiKey", "")


def team_keys() -> list[tuple[str, str, dict]]:
    """(team, key, team rules) for every team whose key env var is set in this zone."""
    out = []
    for team in RULES["teams"]:
        key = os.environ.get(team["keyEnv"], "")
        if key:
            out.append((team["name"], key, team))
    return out


def find_team(api_key: str) -> dict | None:
    for _name, key, team in team_keys():
        if hmac.compare_digest(key.encode(), api_key.encode()):
            return team
    master = os.environ.get("LITELLM_MASTER_KEY", "")
    if master and hmac.compare_digest(master.encode(), api_key.encode()):
        return {"name": "admin", "alias": "master-key", "zones": [ZONE], "models": [], "maxClass": "restricted",
                "boundClass": None, "rpm": None, "tpm": None}
    return None


def clean_id(raw: str | None) -> str | None:
    """A client's x-request-id, reduced to a safe token for the audit line (informational only)."""
    value = "".join(c for c in (raw or "") if c.isalnum() or c in "-_.:")[:64]
    return value or None


class Windows:
    """Per-team requests and tokens in the current minute (DB-less limits, per pod)."""

    def __init__(self) -> None:
        self.minute = 0
        self.requests: dict[str, int] = {}
        self.tokens: dict[str, int] = {}

    def _roll(self) -> None:
        now = int(time.time() // 60)
        if now != self.minute:
            self.minute, self.requests, self.tokens = now, {}, {}

    def admit(self, team: dict) -> str | None:
        """None when admitted (and counted), else the limit that refuses it."""
        with _LOCK:
            self._roll()
            name = team["name"]
            if team.get("tpm") and self.tokens.get(name, 0) >= team["tpm"]:
                return f"tpm limit {team['tpm']} reached"
            if team.get("rpm") and self.requests.get(name, 0) >= team["rpm"]:
                return f"rpm limit {team['rpm']} reached"
            self.requests[name] = self.requests.get(name, 0) + 1
            return None

    def add_tokens(self, team: str, tokens: int) -> None:
        with _LOCK:
            self._roll()
            self.tokens[team] = self.tokens.get(team, 0) + int(tokens or 0)


WINDOWS = Windows()


def open_call(call_id: str, **fields) -> dict:
    """The front's record of one call; the guard finds it by LiteLLM's litellm_call_id."""
    rec = {"call_id": call_id, "t0": time.time(), "event": asyncio.Event(), "loop": asyncio.get_running_loop(),
           **fields}
    with _LOCK:
        CALLS[call_id] = rec
    return rec


def call(call_id: object) -> dict | None:
    return CALLS.get(call_id) if isinstance(call_id, str) else None


def signal(rec: dict) -> None:
    """Tell the front that LiteLLM logged the call (callbacks may run off the event loop's thread)."""
    try:
        rec["loop"].call_soon_threadsafe(rec["event"].set)
    except RuntimeError:  # loop closed at shutdown: nothing waits any more
        pass


def close_call(call_id: str) -> None:
    with _LOCK:
        CALLS.pop(call_id, None)


def audit(**fields) -> None:
    """Write one JSON audit line (stdout and/or the file); never the key, never the prompt."""
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"
    record = {"time": stamp, "kind": "llmkube.audit", "zone": ZONE, **fields}
    line = json.dumps(record, separators=(",", ":"), default=str)
    llmkube_metrics.observe(record)
    with _LOCK:
        if RULES.get("auditStdout", True):
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
        if _AUDIT_FILE:
            with open(_AUDIT_FILE, "a", encoding="utf-8") as fh:
                fh.write(line + "\n")
