"""Where services answer and who may call them: shared by the service, router and metal planners."""

from __future__ import annotations

from .meta import discovery_labels

# Pods carrying this label are routers: every InferenceService's NetworkPolicy admits them.
ROUTER_POD_LABELS = {"llmkube.dev/role": "router"}
# A client pod that may call service <name> directly carries `client.llmkube.dev/<name>: allowed`.
CLIENT_LABEL_PREFIX = "client.llmkube.dev/"


def router_zone_labels(router: str, zone: str) -> dict[str, str]:
    """Labels the pods of one router zone carry, and what a service's NetworkPolicy admits: that zone only."""
    return {**ROUTER_POD_LABELS, **discovery_labels(router=router, zone=zone)}


def service_host(name: str, namespace: str) -> str:
    return f"{name}.{namespace}.svc.cluster.local"


def openai_base_url(name: str, namespace: str, port: int) -> str:
    """In-cluster OpenAI base URL of a service (what routers and clients are given)."""
    return f"http://{service_host(name, namespace)}:{port}/v1"


def client_label(service_name: str) -> dict[str, str]:
    return {f"{CLIENT_LABEL_PREFIX}{service_name}": "allowed"}
