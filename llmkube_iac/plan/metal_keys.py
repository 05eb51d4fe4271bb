"""The API key of a metal service: which services demand one, where it lives, who may read it.

Why: a Mac serves its model on a LAN address the cluster's NetworkPolicies cannot guard. A runtime
that takes a key file (llama-server's --api-key-file) is started with a key from a Secret; the
host's agent may read that Secret (its Role names it) and the router zones that route to the service
hold it in their environment and send it. So the Secret must hold nothing else a Mac may not see:
a Secret shared with router keys would hand the master key to every metal host.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..hardware import vendor
from ..runtimes import runtime
from ..spec import InferenceServiceSpec
from ..spec.base import SecretKeyRef
from ..spec.metal import api_key_secret
from ..spec.router import RouterSpec
from .errors import PlanError


def metal_api_key(svc: InferenceServiceSpec) -> SecretKeyRef | None:
    """The Secret key a metal service's runtime demands, or None (not metal, or a runtime without keys)."""
    native = runtime(svc.runtime).native
    if vendor(svc.accelerator.vendor).schedulable or native is None or not native.api_key_file_flag:
        return None
    return api_key_secret(svc)


def router_secret_names(router: RouterSpec) -> set[str]:
    names = {router.master_key_secret.name} | {t.key_secret.name for t in router.teams}
    return names | {b.api_key_secret.name for b in router.external_backends}


def check_metal_keys(services: Sequence[InferenceServiceSpec], routers: Sequence[RouterSpec]) -> None:
    """Refuse a metal API key kept in a Secret that also holds router keys (metal agents may read it)."""
    router_secrets = {n: r.name for r in routers for n in router_secret_names(r)}
    for i, svc in enumerate(services):
        ref = metal_api_key(svc)
        if ref and ref.name in router_secrets:
            raise PlanError(
                f"services[{i}].endpoint.apiKeySecret",
                f"Secret {ref.name} also holds keys of router {router_secrets[ref.name]}, and the agent "
                f"on every metal host serving {svc.name} may read it: keep the metal API key in a "
                f"Secret of its own (default {svc.name}-api-key)",
            )
