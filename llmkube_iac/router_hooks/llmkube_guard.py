"""LiteLLM callback: the zone's guard (defence in depth behind the front) and the audit enrichment.

- pre-call: the call id must be one the front issued (the front sets LiteLLM's call id); unknown
  model groups are no_route;
- before routing (each fallback group too): the team must be allowed the group, and only the
  router's deployments cleared for the class are kept (an exclusion is remembered, so the audit
  line says fail_closed);
- just before the upstream call: the deployment is named by the router (its model_info id, looked
  up in the router itself), and *every* URL-carrying argument of the final call must equal that
  deployment's own base, cleared for the class, with the deployment's own key; a call to a peer
  site's Router carries exactly two headers of ours (the class and this site's name, which the peer's
  front reads), and a request a peer federated here is never sent to a peer (one hop);
- after the call: tokens, cost and backend go into the front's record, which writes the line.
Health checks carry no call record: they are held to the same base check and are not audited.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from litellm.integrations.custom_logger import CustomLogger  # noqa: E402

import llmkube_common as common  # noqa: E402
import llmkube_policy as policy  # noqa: E402

# Arguments of a LiteLLM call that name where it goes (litellm.main completion/embedding/...).
URL_ARGS = ("api_base", "base_url", "azure_endpoint", "endpoint", "url", "aws_bedrock_runtime_endpoint")


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


def _record(*dicts) -> dict | None:
    """The front's record of this call, found by LiteLLM's call id (the front chose it)."""
    for d in dicts:
        if isinstance(d, dict):
            rec = common.call(d.get("litellm_call_id"))
            if rec is not None:
                return rec
    return None


def _router_base(model_id: str) -> str | None:
    """The base URL the proxy's own router holds for this deployment id (None: it holds no such id).

    Read from the router's model list directly: Router.get_deployment builds a pydantic object per
    call, which costs more than the rest of the guard."""
    server = sys.modules.get("litellm.proxy.proxy_server")
    router = getattr(server, "llm_router", None)
    index = getattr(router, "model_id_to_deployment_index_map", None) or {}
    if model_id not in index:
        return None
    deployment = router.model_list[index[model_id]]
    params = deployment.get("litellm_params") if isinstance(deployment, dict) else deployment.litellm_params
    base = params.get("api_base") if isinstance(params, dict) else getattr(params, "api_base", None)
    return common.norm_url(base)


def _attribute(rec: dict, dep: dict) -> None:
    """Where the call went, for its audit line: backend, locality, region, jurisdiction, the peer's site."""
    rec.update(backend=dep.get("backend"), locality=dep.get("locality"), region=dep.get("region"),
               jurisdiction=dep.get("jurisdiction"), to_site=dep.get("site") if dep.get("locality") == "peer" else None)


class Guard(CustomLogger):
    """One instance per proxy process, named in config.yaml (litellm_settings.callbacks)."""

    async def async_pre_call_hook(self, user_api_key_dict, cache, data, call_type):
        rec = _record(data)
        md = user_api_key_dict.metadata or {}
        if rec is None or md.get("llmkube_call_id") != rec["call_id"]:
            if rec is not None:
                rec["excluded"] = True
            raise FailClosed("the call id was not issued by this zone's front")
        model = data.get("model")
        if model not in common.GROUPS:
            rec["no_route"] = True
            raise NoRoute(f"model group {model!r} is not served in the {common.ZONE} zone")
        return data

    async def async_filter_deployments(self, model, healthy_deployments, messages, request_kwargs=None,
                                       parent_otel_span=None):
        rec = _record(request_kwargs or {}) or {}
        cls = rec.get("classification") or "restricted"  # no record: treat as the most protected
        from_site = rec.get("from_site")
        allowed_models = (common.TEAMS.get(rec.get("team")) or {}).get("models")
        if allowed_models and model not in allowed_models:
            rec["excluded"] = True  # a configured fallback may not take a team to a group it may not call
            raise FailClosed(f"team {rec.get('team')} may not call model group {model!r}")
        kept, dropped = [], 0
        for dep in healthy_deployments:
            rules = common.DEPLOYMENTS.get((dep.get("model_info") or {}).get("id"))
            if rules and common.cleared(cls, rules, from_site):
                kept.append(dep)
            else:
                dropped += 1
        configured = [d for d in common.RULES["deployments"] if d["group"] == model]
        if dropped or (configured and not any(common.cleared(cls, d, from_site) for d in configured)):
            rec["excluded"] = True
        if (not kept and healthy_deployments) or not any(common.cleared(cls, d, from_site) for d in configured):
            # judged on the group as configured, so a cooled-down deployment cannot hide the reason
            hop = f" outside site {from_site}'s peers (a federated request is not sent on)" if from_site else ""
            raise FailClosed(f"no deployment of {model!r} is cleared for {cls} data{hop}")
        return kept

    async def async_pre_call_deployment_hook(self, kwargs, call_type):
        rec = _record(kwargs)
        cls = (rec or {}).get("classification") or "restricted"
        from_site = (rec or {}).get("from_site")
        model_id = (kwargs.get("model_info") or {}).get("id")
        dep = common.DEPLOYMENTS.get(model_id)
        problem = None
        if dep is None:
            problem = f"deployment {model_id!r} is not one of this zone's"
        else:
            expected = common.base_of(dep)
            params = kwargs.get("litellm_params") if isinstance(kwargs.get("litellm_params"), dict) else {}
            urls = {f"{where}{k}": common.norm_url(src[k]) for where, src in (("", kwargs), ("litellm_params.", params))
                    for k in URL_ARGS if src.get(k)}
            if _router_base(model_id) != expected:
                problem = f"the router holds no deployment {model_id!r} with base {expected or '(unset)'}"
            elif not common.allowed_for(cls, dep):
                problem = f"deployment {model_id} is not cleared for {cls} data"
            elif not common.cleared(cls, dep, from_site):
                problem = f"the request was federated from site {from_site}: not sent on to site {dep.get('site')}"
            elif not urls or any(v != expected for v in urls.values()):
                wrong = sorted(k for k, v in urls.items() if v != expected) or ["api_base (missing)"]
                problem = f"upstream arguments {', '.join(wrong)} differ from deployment {model_id}'s base"
            elif kwargs.get("api_key") != common.key_of(dep):
                problem = f"the credential is not deployment {model_id}'s own"
        if problem:
            if rec is not None:
                rec["excluded"] = True
            raise FailClosed(problem)
        if rec is not None:
            rec["upstream_called"] = True
            _attribute(rec, dep)  # the attempt's backend; a later success (a fallback) overwrites it
        if dep["locality"] == "peer":  # the peer gets our headers and no others (nor forwarded client headers)
            ours = {policy.CLASS_HEADER: cls, policy.FEDERATED_HEADER: common.RULES["site"]}
            return {**{k: v for k, v in kwargs.items() if k != "headers"}, "extra_headers": ours}
        return None

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        rec = _record(kwargs)
        if rec is None:
            return  # health checks and internal calls have no front record
        slo = kwargs.get("standard_logging_object") or {}
        model_id = slo.get("model_id") or ((kwargs.get("litellm_params") or {}).get("model_info") or {}).get("id")
        dep = common.DEPLOYMENTS.get(model_id, {})
        tokens = int(slo.get("total_tokens") or 0)
        if rec.get("team"):
            common.WINDOWS.add_tokens(rec["team"], tokens)
        _attribute(rec, dep)
        rec.update(logged=True, prompt_tokens=slo.get("prompt_tokens"), completion_tokens=slo.get("completion_tokens"),
                   tokens=tokens, cost=float(slo.get("response_cost") or 0.0))
        rec.pop("failure", None)
        common.signal(rec)

    async def async_log_failure_event(self, kwargs, response_obj, start_time, end_time):
        rec = _record(kwargs)
        if rec is not None and not rec.get("logged"):
            exc = kwargs.get("exception")
            rec["failure"] = str(exc or "upstream call failed")[:300]
            common.signal(rec)

    async def async_post_call_failure_hook(self, request_data, original_exception, user_api_key_dict,
                                           traceback_str=None):
        rec = _record(request_data or {})
        if rec is None:
            return
        # fail_closed and no_route are what this guard decided (it marks the record as it raises), never
        # read from the text: an upstream's error (a peer Router's refusal, a runtime echoing the prompt)
        # may say anything
        if isinstance(original_exception, FailClosed):
            rec["excluded"] = True
        if isinstance(original_exception, NoRoute):
            rec["no_route"] = True
        rec["failure"] = str(original_exception)[:300]
        common.signal(rec)


guard = Guard()
