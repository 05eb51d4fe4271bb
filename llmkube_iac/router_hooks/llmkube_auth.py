"""LiteLLM `custom_auth` hook: hands LiteLLM the identity the front already decided.

The front (llmkube_front) authenticates, checks classes, zones, paths, bodies and limits, and puts
its decision in the ASGI scope. This hook only turns that decision into LiteLLM's UserAPIKeyAuth,
after checking that the key LiteLLM extracted is the same team's key; a request without a front
decision is refused (fail closed). Importing this module installs the front, so the proxy does
not start without it.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fastapi import HTTPException, Request  # noqa: E402
from litellm.proxy._types import UserAPIKeyAuth  # noqa: E402

import llmkube_common as common  # noqa: E402
import llmkube_front  # noqa: E402

llmkube_front.install()


async def user_api_key_auth(request: Request, api_key: str) -> UserAPIKeyAuth:
    """The custom_auth entry point named in config.yaml (general_settings.custom_auth)."""
    decision = request.scope.get("llmkube")
    if not isinstance(decision, dict):
        raise HTTPException(status_code=403, detail="llmkube: request did not pass the zone's front")
    key = (api_key or "").strip()
    if key.lower().startswith("bearer "):
        key = key[7:].strip()
    team = common.find_team(key) if key else None
    if team is None or team["name"] != decision["team"]:
        raise HTTPException(status_code=401, detail="llmkube: the key LiteLLM read is not the one the front checked")
    return UserAPIKeyAuth(
        api_key=f"llmkube-team-{team['name']}",  # an identifier, never the key itself
        key_alias=team.get("alias") or team["name"],
        team_id=team["name"],
        metadata={"llmkube_class": decision["class"], "llmkube_team": team["name"],
                  "llmkube_call_id": decision["call_id"]},
    )
