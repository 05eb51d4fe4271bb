"""RouterSpec -> per-zone LiteLLM config.yaml, the guard's rules file and the files a zone mounts.

Pure. The zone split is structural: the sovereign zone's model list contains only in-site
deployments and its env carries no provider key, so no config or header can make it call out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

from ..router_hooks import RULES_FILE, hook_sources
from ..spec import InferenceServiceSpec, SiteSpec
from ..spec.federation import PeerBackend
from ..spec.router import ExternalBackend, LocalBackend, RouterSpec
from .endpoints import openai_base_url
from .errors import PlanError
from .federation import UPSTREAM_ENV_PREFIX, URL, ref
from .metal_keys import metal_api_key

# Keep in step with scripts/install-litellm (the router tests run exactly this version; that script
# says why this is the newest pin the package index can install).
LITELLM_VERSION = "1.106.2"
LITELLM_IMAGE = f"ghcr.io/berriai/litellm:main-v{LITELLM_VERSION}"
CONFIG_DIR = "/etc/litellm"
AUDIT_DIR = "/var/log/llmkube"
MASTER_KEY_ENV = "LITELLM_MASTER_KEY"
LOCAL_API_KEY = "sk-llmkube-local"  # local runtimes ignore keys; the OpenAI client wants one (not a secret)
PROVIDER_BASES = {
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com",
    "gemini": "https://generativelanguage.googleapis.com",
}
PROVIDER_PREFIX = {"openai": "openai", "anthropic": "anthropic", "gemini": "gemini", "openai-compatible": "openai"}
# Process-level settings of every zone: no phone-home, no UI, no docs, logs as JSON.
METRICS_PORT = 9464  # llmkube_metrics serves the Router's Prometheus metrics here
# what llmkube_metrics exports (router_hooks/llmkube_metrics.py; a test keeps the two equal): requests by
# outcome (ok, refused, fail_closed, no_route, error) and the latency histogram with its bucket bounds
ROUTER_REQUESTS = "llmkube_router_requests_total"
ROUTER_ERRORS = 'outcome=~"error|no_route"'  # refusals are the router doing its job, not failing
ROUTER_FAIL_CLOSED = 'outcome="fail_closed"'
ROUTER_LATENCY = "llmkube_router_request_seconds"
ROUTER_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
ROUTER_TOKENS = "llmkube_router_tokens_total"
BASE_ENV = {
    "LLMKUBE_METRICS_PORT": str(METRICS_PORT),
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_TELEMETRY": "False",
    "LITELLM_MODE": "PRODUCTION",
    "LITELLM_LOG": "ERROR",
    "DISABLE_ADMIN_UI": "True",
    "NO_DOCS": "True",
    "NO_REDOC": "True",
    "HOME": "/tmp",
    "PYTHONUNBUFFERED": "1",
}


def env_name(prefix: str, name: str) -> str:
    return prefix + re.sub(r"[^A-Z0-9]", "_", name.upper())


def team_key_env(team: str) -> str:
    return env_name("LLMKUBE_TEAM_KEY_", team)


def provider_key_env(backend: str) -> str:
    return env_name("LLMKUBE_PROVIDER_KEY_", backend)


def peer_key_env(backend: str) -> str:
    """The env var holding this router's key at a peer Router (from the backend's keySecret)."""
    return env_name("LLMKUBE_PEER_KEY_", backend)


def backend_key_env(backend: str) -> str:
    """The env var holding the API key a local (metal) backend demands."""
    return env_name("LLMKUBE_BACKEND_KEY_", backend)


def upstream_env(backend: str) -> str:
    """The env var holding a backend's base URL: config and guard read it, the Deployment sets it."""
    return env_name(UPSTREAM_ENV_PREFIX, backend)


@dataclass
class ZoneConfig:
    """Everything one zone's proxy needs: its files and the Secret-backed env vars."""

    zone: str
    name: str  # Deployment / Service / ConfigMap base name
    files: dict[str, str]
    secret_env: dict[str, tuple[str, str]] = field(default_factory=dict)  # env -> (secret, key)
    plain_env: dict[str, str] = field(default_factory=dict)  # env -> value (upstream base URLs)
    upstreams: list[dict] = field(default_factory=list)  # {"host", "port", "service"} egress targets


def served_model(svc: InferenceServiceSpec) -> str:
    """The model name a service answers to (what the runtime was started with)."""
    return svc.served_model


def _deployment(
    site: SiteSpec, router: RouterSpec, group: str, backend, services: dict, costs: dict[str, float] | None = None
) -> tuple[dict, dict]:
    """(LiteLLM model_list entry, guard rules for it). `costs`: $/token of local services (plan/cost.py)."""
    t = router.timeouts
    dep_id = f"{group}.{backend.name}"
    if isinstance(backend, LocalBackend):
        svc = services[backend.service]
        base = openai_base_url(svc.name, site.namespace, svc.endpoint.port)
        params: dict[str, object] = {"model": f"openai/{backend.model or served_model(svc)}", "api_key": LOCAL_API_KEY}
        rules = {
            "locality": "local",
            "maxClass": svc.classification,
            "region": site.region,
            "jurisdiction": site.jurisdiction,
            "service": svc.name,
            "apiKey": LOCAL_API_KEY,
        }
        if metal_api_key(svc):  # a metal host's runtime demands its key (plan/metal_keys.py); the guard checks it
            params["api_key"] = f"os.environ/{backend_key_env(backend.name)}"
            del rules["apiKey"]
            rules["apiKeyEnv"] = backend_key_env(backend.name)
    elif isinstance(backend, PeerBackend):  # another site's sovereign zone: its URL is bound from its stack
        base = ref(backend, URL)
        params = {"model": f"openai/{backend.model}", "api_key": f"os.environ/{peer_key_env(backend.name)}"}
        rules = {
            "locality": "peer",
            "maxClass": backend.max_classification,
            "jurisdiction": backend.jurisdiction,
            "site": backend.site,
            "router": backend.router,
            "apiKeyEnv": peer_key_env(backend.name),
        }
    else:
        base = backend.api_base or PROVIDER_BASES[backend.provider]
        params = {
            "model": f"{PROVIDER_PREFIX[backend.provider]}/{backend.model}",
            "api_key": f"os.environ/{provider_key_env(backend.name)}",
        }
        if backend.max_budget_dollars:
            params["max_budget"] = backend.max_budget_dollars
            params["budget_duration"] = backend.budget_period
        rules = {
            "locality": "external",
            "maxClass": backend.max_classification,
            "region": backend.region,
            "jurisdiction": backend.jurisdiction,
            "provider": backend.provider,
            "apiKeyEnv": provider_key_env(backend.name),
        }
    params["api_base"] = f"os.environ/{upstream_env(backend.name)}"
    params["timeout"] = t.request_seconds
    params["stream_timeout"] = t.stream_seconds or t.request_seconds
    if backend.rpm:
        params["rpm"] = backend.rpm
    info: dict = {"id": dep_id, "llmkube_backend": backend.name, "llmkube_locality": rules["locality"]}
    local_cost = (costs or {}).get(backend.service) if isinstance(backend, LocalBackend) else None
    if local_cost is not None:  # LiteLLM registers model_info as the deployment's price: budgets count local use
        info["input_cost_per_token"] = info["output_cost_per_token"] = local_cost
    entry = {"model_name": group, "litellm_params": params, "model_info": info}
    return entry, {
        "id": dep_id,
        "group": group,
        "backend": backend.name,
        "apiBase": base.rstrip("/"),
        "apiBaseEnv": upstream_env(backend.name),
        **rules,
    }


def _zone_backends(router: RouterSpec, zone: str) -> set[str]:
    """Sovereign: in-site services and peer sites' sovereign zones; external: in-site services and providers."""
    kind = PeerBackend if zone == "sovereign" else ExternalBackend
    return {b.name for b in router.backends if isinstance(b, (LocalBackend, kind))}


def zone_services(router: RouterSpec, zone: str) -> set[str]:
    """The InferenceServices one zone sends requests to: their NetworkPolicies admit exactly that zone."""
    allowed = _zone_backends(router, zone)
    return {b.service for b in router.local_backends if b.name in allowed}


def plan_zone_config(
    site: SiteSpec,
    router: RouterSpec,
    services: dict[str, InferenceServiceSpec],
    zone: str,
    costs: dict[str, float] | None = None,
) -> ZoneConfig:
    """The config files for one zone (sovereign or external), ready for a ConfigMap."""
    allowed = _zone_backends(router, zone)
    model_list, deployments, groups = [], [], []
    for group in router.model_groups:
        members = [router.backend(b) for b in group.backends if b in allowed]
        if not members:
            continue
        for backend in members:
            entry, rules = _deployment(site, router, group.name, backend, services, costs)
            model_list.append(entry)
            deployments.append(rules)
        groups.append(group)
    if not model_list:
        raise PlanError("modelGroups", f"no model group has a backend the {zone} zone may hold; add a local backend")
    served = {g.name for g in groups}
    fallbacks = [
        {g.name: [f for f in g.fallbacks if f in served]} for g in groups if any(f in served for f in g.fallbacks)
    ]
    t = router.timeouts
    router_settings: dict = {
        "routing_strategy": router.strategy,
        "num_retries": t.num_retries,
        "allowed_fails": t.allowed_fails,
        "cooldown_time": t.cooldown_seconds,
        "timeout": t.request_seconds,
    }
    if fallbacks:
        router_settings["fallbacks"] = fallbacks
    budgets = {
        b.provider: {"budget_limit": b.dollars, "time_period": b.period}
        for b in router.provider_budgets
        if zone == "external"
    }
    if budgets:
        router_settings["provider_budget_config"] = budgets
    config = {
        "model_list": model_list,
        "litellm_settings": {
            "callbacks": ["llmkube_guard.guard"],
            "drop_params": True,
            "telemetry": False,
            "request_timeout": t.request_seconds,
            "num_retries": t.num_retries,
        },
        "router_settings": router_settings,
        "general_settings": {
            "master_key": f"os.environ/{MASTER_KEY_ENV}",
            "custom_auth": "llmkube_auth.user_api_key_auth",
            "disable_spend_logs": True,
            "disable_reset_budget": True,
            "allow_client_side_credentials": False,
        },
    }
    teams = [t for t in router.teams if zone in t.zones]
    audit_file = f"{AUDIT_DIR}/{router.audit.file}" if router.audit.volume_claim else None
    rules = {
        "router": router.name,
        "site": site.name,
        "zone": zone,
        "allowedPaths": list(router.allowed_paths),
        # a peer's base is bound at deploy time (its stack's output): the guard reads every base from the env
        "deployments": [
            {k: v for k, v in d.items() if not (k == "apiBase" and d["locality"] == "peer")} for d in deployments
        ],
        "groups": [{"name": g.name, "fallbacks": [f for f in g.fallbacks if f in served]} for g in groups],
        "teams": [
            {
                "name": t.name,
                "alias": t.name,
                "keyEnv": team_key_env(t.name),
                "zones": list(t.zones),
                "models": list(t.models),
                "maxClass": t.max_classification,
                "boundClass": t.classification,
                "rpm": t.rpm,
                "tpm": t.tpm,
            }
            for t in teams
        ],
        "auditStdout": router.audit.stdout,
        "auditFile": audit_file,
    }
    files = {"config.yaml": yaml.safe_dump(config, sort_keys=False), RULES_FILE: _json(rules), **hook_sources()}
    secret_env = {MASTER_KEY_ENV: (router.master_key_secret.name, router.master_key_secret.key)}
    for team in teams:
        secret_env[team_key_env(team.name)] = (team.key_secret.name, team.key_secret.key)
    if zone == "external":
        for b in router.external_backends:
            secret_env[provider_key_env(b.name)] = (b.api_key_secret.name, b.api_key_secret.key)
    else:
        for peer in router.peer_backends:
            secret_env[peer_key_env(peer.name)] = (peer.key_secret.name, peer.key_secret.key)
    for local in router.local_backends:  # metal backends' API keys, for the zones that route to them
        ref = metal_api_key(services[local.service]) if local.name in allowed else None
        if ref:
            secret_env[backend_key_env(local.name)] = (ref.name, ref.key)
    plain_env = {d["apiBaseEnv"]: d["apiBase"] for d in deployments}
    name = router.name if zone == "sovereign" else router.external_name
    upstreams = [
        {"service": services[b.service].name, "port": services[b.service].endpoint.port}
        for b in router.local_backends
        if b.name in allowed
    ]
    return ZoneConfig(zone, name, files, secret_env, plain_env, upstreams)


def _json(value: dict) -> str:
    import json

    return json.dumps(value, indent=2, sort_keys=True) + "\n"


def zones_of(router: RouterSpec) -> list[str]:
    return ["sovereign", "external"] if router.has_external_zone else ["sovereign"]


def external_egress_ports(router: RouterSpec) -> list[int]:
    """TCP ports external providers are reached on (443 unless an apiBase names another)."""
    ports = set()
    for b in router.external_backends:
        base = b.api_base or PROVIDER_BASES[b.provider]
        match = re.match(r"^(https?)://[^/:]+(?::(\d+))?", base)
        ports.add(int(match.group(2)) if match and match.group(2) else (80 if base.startswith("http:") else 443))
    return sorted(ports) or [443]


def check_backends(router: RouterSpec, services: dict[str, InferenceServiceSpec]) -> None:
    for i, b in enumerate(router.backends):
        if isinstance(b, LocalBackend) and b.service not in services:
            known = ", ".join(sorted(services)) or "none declared"
            raise PlanError(f"backends[{i}].service", f"unknown InferenceService {b.service!r} (declared: {known})")
        if isinstance(b, ExternalBackend) and b.provider not in PROVIDER_PREFIX:
            raise PlanError(f"backends[{i}].provider", f"unsupported provider {b.provider}")
