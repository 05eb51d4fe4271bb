"""LiteLLM callback: the zone's guard (defence in depth) and its audit trail.

- pre-call: stamps the request's class/team/id into its metadata; unknown model groups are no_route;
- before routing: keeps only deployments cleared for the class (an exclusion is remembered);
- just before the upstream call: re-checks the chosen base URL against those cleared for the class;
- after the request: exactly one audit line (ok, refused, fail_closed, no_route, error).
Health checks carry no stamp and are not audited.
"""
from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from litellm.integrations.custom_logger import CustomLogger  # noqa: E402

import llmkube_common as common  # noqa: E402

STAMP = "llmkube"


class FailClosed(Exception):
    """No deployment cleared for the request's class is left: refuse rather than leave the zone."""

    status_code = 503
    llm_provider = "llmkube"

    def __init__(self, message: str):
        super().__init__(f"llmkube fail_closed: {message}")
        self.message = f"llmkube fail_closed: {message}"


class NoRoute(Exception):
    status_code = 404

    def __init__(self, message: str):
        super().__init__(f"llmkube no_route: {message}")
        self.message = f"llmkube no_route: {message}"


def _stamp_of(*dicts) -> dict | None:
    for d in dicts:
        if not isinstance(d, dict):
            continue
        for key in ("metadata", "litellm_metadata"):
            md = d.get(key)
            if isinstance(md, dict) and isinstance(md.get(STAMP), dict):
                return md[STAMP]
        if isinstance(d.get(STAMP), dict):
            return d[STAMP]
    return None


def _record(stamp: dict | None) -> dict:
    return common.REQUESTS.setdefault(stamp["rid"], {}) if stamp else {}


class Guard(CustomLogger):
    """One instance per proxy process, named in config.yaml (litellm_settings.callbacks)."""

    async def async_pre_call_hook(self, user_api_key_dict, cache, data, call_type):
        md = user_api_key_dict.metadata or {}
        cls = md.get("llmkube_class")
        if cls not in common.CLASSES:
            cls = "restricted"
        stamp = {"class": cls, "team": md.get("llmkube_team") or user_api_key_dict.team_id,
                 "alias": user_api_key_dict.key_alias, "rid": md.get("llmkube_request_id") or common.request_id(None),
                 "t0": time.time(), "model": data.get("model")}
        common.forget_old()
        rec = common.REQUESTS.setdefault(stamp["rid"], {})
        rec.update(stamp)
        for key in ("metadata", "litellm_metadata"):
            if isinstance(data.get(key), dict):
                data[key][STAMP] = stamp
        if not any(isinstance(data.get(k), dict) for k in ("metadata", "litellm_metadata")):
            data["metadata"] = {STAMP: stamp}
        model = data.get("model")
        if call_type in ("completion", "text_completion", "embeddings") or model is not None:
            if model not in common.GROUPS:
                rec["no_route"] = True
                raise NoRoute(f"model group {model!r} is not served in the {common.ZONE} zone")
        return data

    async def async_filter_deployments(self, model, healthy_deployments, messages, request_kwargs=None,
                                       parent_otel_span=None):
        stamp = _stamp_of(request_kwargs or {})
        cls = stamp["class"] if stamp else "restricted"  # unstamped: treat as the most protected
        kept, dropped = [], 0
        for dep in healthy_deployments:
            rules = common.DEPLOYMENTS.get((dep.get("model_info") or {}).get("id"))
            if rules and common.allowed_for(cls, rules):
                kept.append(dep)
            else:
                dropped += 1
        configured = [d for d in common.RULES["deployments"] if d["group"] == model]
        if dropped or (configured and not any(common.allowed_for(cls, d) for d in configured)):
            _record(stamp)["excluded"] = True
        if (not kept and healthy_deployments) or not any(common.allowed_for(cls, d) for d in configured):
            # judged on the group as configured, so a cooled-down deployment cannot hide the reason
            raise FailClosed(f"no deployment of {model!r} is cleared for {cls} data")
        return kept

    async def async_pre_call_deployment_hook(self, kwargs, call_type):
        stamp = _stamp_of(kwargs, kwargs.get("litellm_params") or {})
        cls = stamp["class"] if stamp else "restricted"
        base = (kwargs.get("api_base") or kwargs.get("base_url") or "").rstrip("/")
        if base not in common.allowed_bases(cls):
            _record(stamp)["excluded"] = True
            raise FailClosed(f"upstream {base or '(provider default)'} is not cleared for {cls} data")
        return None

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        litellm_params = kwargs.get("litellm_params") or {}
        stamp = _stamp_of(litellm_params, kwargs)
        if not stamp or not common.once(stamp["rid"]):
            return  # health checks and internal calls carry no stamp
        slo = kwargs.get("standard_logging_object") or {}
        model_id = slo.get("model_id") or (litellm_params.get("model_info") or {}).get("id")
        dep = common.DEPLOYMENTS.get(model_id, {})
        tokens = int(slo.get("total_tokens") or 0)
        common.WINDOWS.add_tokens(stamp["team"], tokens)
        common.audit(call_id=slo.get("id") or kwargs.get("litellm_call_id"), request_id=stamp["rid"],
                     team=stamp["team"], key_alias=stamp["alias"], classification=stamp["class"],
                     model_group=slo.get("model_group") or stamp.get("model"), backend=dep.get("backend"),
                     locality=dep.get("locality"), region=dep.get("region"), jurisdiction=dep.get("jurisdiction"),
                     prompt_tokens=slo.get("prompt_tokens"), completion_tokens=slo.get("completion_tokens"),
                     tokens=tokens, cost=float(slo.get("response_cost") or 0.0),
                     latency_ms=round((time.time() - stamp["t0"]) * 1000, 1), stream=bool(slo.get("stream")),
                     outcome="ok", status=200)

    async def async_post_call_failure_hook(self, request_data, original_exception, user_api_key_dict,
                                           traceback_str=None):
        if getattr(original_exception, "llmkube_audited", False):
            return
        stamp = _stamp_of(request_data or {})
        md = getattr(user_api_key_dict, "metadata", None) or {}
        rid = stamp["rid"] if stamp else md.get("llmkube_request_id") or common.request_id(None)
        if not common.once(rid):
            return
        rec = common.REQUESTS.get(rid, {})
        text = str(original_exception)
        status = getattr(original_exception, "status_code", None) or getattr(original_exception, "code", None)
        try:
            status = int(status)
        except (TypeError, ValueError):
            status = 429 if "No deployments available" in text else 500
        if stamp is None and not md:
            outcome = "refused"  # failed before our auth hook admitted it
        elif rec.get("no_route") or "no_route" in text or "Invalid model name" in text:
            outcome = "no_route"
        elif rec.get("excluded") or "fail_closed" in text:
            outcome = "fail_closed"
        else:
            outcome = "error"
        common.audit(call_id=rid, request_id=rid, team=(stamp or {}).get("team") or md.get("llmkube_team"),
                     key_alias=(stamp or {}).get("alias"), classification=(stamp or {}).get("class")
                     or md.get("llmkube_class"), model_group=(request_data or {}).get("model"), backend=None,
                     locality=None, region=None, tokens=0, cost=0.0,
                     latency_ms=round((time.time() - stamp["t0"]) * 1000, 1) if stamp else 0,
                     outcome=outcome, status=status, reason=text[:300],
                     path=getattr(user_api_key_dict, "request_route", None))


guard = Guard()
