"""LiteLLM `custom_auth` hook: who is calling, with which data class, on which path, how often.

Refuses (and audits) before any routing: unknown keys, paths outside the allowlist (provider
pass-through and management routes), zones the team may not use, classes above the team's
ceiling, and teams over their rpm/tpm window (429). Missing or unknown classes mean restricted.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fastapi import HTTPException, Request  # noqa: E402
from litellm.proxy._types import UserAPIKeyAuth  # noqa: E402
from litellm.proxy.common_utils.http_parsing_utils import _read_request_body  # noqa: E402

import llmkube_common as common  # noqa: E402


class Refused(HTTPException):
    """An auth-time refusal that has already written its audit line."""

    llmkube_audited = True


def _refuse(status: int, reason: str, rid: str, path: str, team: dict | None = None, cls: str | None = None,
            model: str | None = None):
    common.once(rid)
    common.audit(call_id=rid, request_id=rid, team=team["name"] if team else None,
                 key_alias=team.get("alias") if team else None, classification=cls, model_group=model,
                 backend=None, locality=None, region=None, tokens=0, cost=0.0, latency_ms=0,
                 outcome="refused", status=status, reason=reason, path=path)
    raise Refused(status_code=status, detail=f"llmkube: {reason}")


async def _model_of(request: Request) -> str | None:
    try:
        body = await _read_request_body(request)  # LiteLLM's own parser: caches the body for the route
        model = body.get("model") if isinstance(body, dict) else None
        return model if isinstance(model, str) else None
    except Exception:  # no body, not JSON: the model is simply unknown here
        return None


async def user_api_key_auth(request: Request, api_key: str) -> UserAPIKeyAuth:
    """The custom_auth entry point named in config.yaml (general_settings.custom_auth)."""
    path = request.url.path.rstrip("/") or "/"
    rid = common.request_id(request.headers.get(common.REQUEST_ID_HEADER))
    if path not in common.RULES["allowedPaths"]:
        _refuse(403, f"path {path} is not served by this router", rid, path)
    key = (api_key or "").strip()
    if key.lower().startswith("bearer "):
        key = key[7:].strip()
    team = common.find_team(key) if key else None
    if team is None:
        _refuse(401, "unknown or missing API key", rid, path)
    header, understood = common.parse_class(request.headers.get(common.CLASS_HEADER))
    cls = header
    if team.get("boundClass"):
        # a bound class can be raised by the header, never lowered
        cls = max(team["boundClass"], header if understood else team["boundClass"], key=common.rank)
    model = await _model_of(request) if request.method == "POST" else None
    if common.ZONE not in team["zones"]:
        _refuse(403, f"team {team['name']} may not use the {common.ZONE} zone", rid, path, team, cls, model)
    if common.rank(cls) > common.rank(team["maxClass"]):
        _refuse(403, f"class {cls} exceeds team {team['name']} ceiling {team['maxClass']}", rid, path, team, cls, model)
    if model is not None and team["models"] and model not in team["models"]:
        _refuse(403, f"team {team['name']} may not call model {model}", rid, path, team, cls, model)
    limited = common.WINDOWS.admit(team)
    if limited:
        _refuse(429, limited, rid, path, team, cls, model)
    return UserAPIKeyAuth(
        api_key=f"llmkube-team-{team['name']}",  # an identifier, never the key itself
        key_alias=team.get("alias") or team["name"],
        team_id=team["name"],
        metadata={"llmkube_class": cls, "llmkube_team": team["name"], "llmkube_request_id": rid,
                  "llmkube_header_understood": str(understood).lower()},
    )
