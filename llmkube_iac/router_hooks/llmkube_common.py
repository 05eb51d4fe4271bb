"""Shared by the auth hook and the guard: the zone's rules, the audit writer, rate windows.

LiteLLM loads each hook file with its own module spec; both import this module by name (the
config directory is put on sys.path) so they share one copy of the state below.
"""
from __future__ import annotations

import hmac
import json
import os
import sys
import threading
import time
import uuid

import llmkube_metrics  # a sibling file in the same config directory

HERE = os.path.dirname(os.path.abspath(__file__))
RULES = json.load(open(os.path.join(HERE, "llmkube_router.json"), encoding="utf-8"))
ZONE = RULES["zone"]
CLASSES = ("public", "internal", "confidential", "restricted")
CLASS_HEADER = "x-llmkube-classification"
REQUEST_ID_HEADER = "x-request-id"
DEPLOYMENTS = {d["id"]: d for d in RULES["deployments"]}
GROUPS = {g["name"]: g for g in RULES["groups"]}
_LOCK = threading.Lock()
_AUDIT_FILE = RULES.get("auditFile")
# request id -> what the guard knows about it (class, team, whether it excluded a deployment)
REQUESTS: dict[str, dict] = {}


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


def base_of(deployment: dict) -> str:
    """The deployment's base URL as the pod's env sets it (the same value LiteLLM resolves)."""
    return (os.environ.get(deployment["apiBaseEnv"]) or "").rstrip("/")


def allowed_bases(cls: str) -> set[str]:
    bases = {base_of(d) for d in RULES["deployments"] if allowed_for(cls, d)}
    bases.discard("")
    return bases


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


def request_id(raw: str | None) -> str:
    value = "".join(c for c in (raw or "") if c.isalnum() or c in "-_.:")[:64]
    return value or uuid.uuid4().hex


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


def audit(**fields) -> None:
    """Write one JSON audit line (stdout and/or the file); never the key, never the prompt."""
    record = {"time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{int(time.time() * 1000) % 1000:03d}Z",
              "kind": "llmkube.audit", "zone": ZONE, **fields}
    line = json.dumps(record, separators=(",", ":"), default=str)
    llmkube_metrics.observe(record)
    with _LOCK:
        if RULES.get("auditStdout", True):
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
        if _AUDIT_FILE:
            with open(_AUDIT_FILE, "a", encoding="utf-8") as fh:
                fh.write(line + "\n")


def once(rid: str) -> bool:
    """True the first time a request id is audited: exactly one line per request."""
    with _LOCK:
        rec = REQUESTS.setdefault(rid, {})
        if rec.get("audited"):
            return False
        rec["audited"] = True
        return True


def forget_old(max_entries: int = 50000) -> None:
    with _LOCK:
        if len(REQUESTS) > max_entries:
            for key in list(REQUESTS)[: len(REQUESTS) // 2]:
                REQUESTS.pop(key, None)
