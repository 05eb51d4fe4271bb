"""Metal services -> what the cluster needs so Apple Silicon hosts join the fleet.

Kubernetes cannot schedule Metal workloads, so a service with accelerator `metal` renders no
Deployment: a selector-less Service (the agent fills its EndpointSlices), one desired-state
ConfigMap per host (the contract in spec/metal.py), one least-privilege identity per host's agent,
a Lease per host for heartbeats, and a PrometheusRule that fires when an agent goes quiet.
"""
from __future__ import annotations

from ..hardware import vendor
from ..runtimes import ServeContext, runtime
from ..spec import InferenceServiceSpec, ModelSpec, SiteSpec
from ..spec.metal import (DESIRED_STATE_KEY, PRIORITY_RANK, RUNTIME_FOR_SERVICE, VERSION_KEY, DesiredState,
                          AGENT, MetalServiceState, config_map_name, lease_name, slice_name)
from .errors import PlanError
from .meta import discovery_labels, manifest, metadata, standard_labels

HEARTBEAT_METRIC = "llmkube_metal_agent_heartbeat_timestamp_seconds"
GIB = 1024 ** 3


def _labels(name: str, instance: str, component: str, site: SiteSpec, **extra) -> dict[str, str]:
    return {**standard_labels(name, instance, component), **discovery_labels(site=site.name, vendor="metal", **extra)}


def _hosts_for(site: SiteSpec, svc: InferenceServiceSpec) -> list[str]:
    known = [h.name for h in site.metal_hosts]
    if not svc.hosts:
        return known
    unknown = [h for h in svc.hosts if h not in known]
    if unknown:
        raise PlanError(f"services[{svc.name}].hosts",
                        f"unknown metal host(s) {', '.join(unknown)}; the site declares: {', '.join(known) or 'none'}")
    return list(svc.hosts)


def service_state(svc: InferenceServiceSpec, model: ModelSpec) -> MetalServiceState:
    """One service as the agent sees it: runtime arguments are templated on {model}/{host}/{port}."""
    native = RUNTIME_FOR_SERVICE.get(svc.runtime)
    if native is None:
        raise PlanError(f"services[{svc.name}].runtime",
                        f"{svc.runtime} has no native macOS build; use llamacpp or ollama on metal hosts")
    if native == "llama-server":
        ctx = ServeContext(service=svc, model=model, model_path="{model}", vendor=vendor("metal"),
                           port=svc.endpoint.port, served_name=svc.engine.served_model_name or svc.name)
        args = runtime(svc.runtime).build_args(ctx)
        args = ["{host}" if a == "0.0.0.0" else "{port}" if a == str(svc.endpoint.port) else a for a in args]
        args += ["--n-gpu-layers", "99"]  # Metal: offload every layer to the GPU (unified memory)
    elif native == "mlx-lm":
        args = ["--model", "{model}", "--host", "{host}", "--port", "{port}"]
    else:  # ollama: the agent's wrapper serves, then registers the fetched GGUF under the served name
        args = ["{model}", svc.engine.served_model_name or svc.name]
    src = model.parsed_source
    version = model.sha256 or (src.revision if src.pinned else None)  # a new commit is a new cache entry
    cache_key = f"{model.name or svc.name}/{(version or 'unpinned')[:16]}"
    served = svc.engine.served_model_name or svc.name
    return MetalServiceState(
        name=svc.name, source=model.source, sha256=model.sha256, cache_key=cache_key, runtime=native,
        args=tuple(args) + (tuple(svc.extra_args) if native != "ollama" else ()), port=svc.endpoint.port,
        # Ollama has no /health; its OpenAI model route answers 200 only once the model is registered
        health_path=f"/v1/models/{served}" if native == "ollama" else "/health",
        memory_estimate_bytes=int(model.size_gi_b * GIB) if model.size_gi_b else None,
        priority=PRIORITY_RANK[svc.priority], model=model.to_config(),
        service={**svc.to_config(), "model": model.to_config()},
    )


def desired_states(site: SiteSpec, services: list[tuple[InferenceServiceSpec, ModelSpec]]) -> dict[str, DesiredState]:
    """Per host, the services it must run (ports must not collide on one host)."""
    per_host: dict[str, list[MetalServiceState]] = {h.name: [] for h in site.metal_hosts}
    for svc, model in services:
        state = service_state(svc, model)
        for host in _hosts_for(site, svc):
            clash = [s.name for s in per_host[host] if s.port == state.port]
            if clash:
                raise PlanError(f"services[{svc.name}].endpoint.port",
                                f"port {state.port} is already used by {clash[0]} on metal host {host}; pick another")
            per_host[host].append(state)
    return {
        h.name: DesiredState(host=h.name, address=h.address, namespace=site.namespace, lease_name=lease_name(h.name),
                             memory_budget_bytes=int(h.unified_memory_gi_b * h.usable_fraction * GIB),
                             services=tuple(per_host[h.name]))
        for h in site.metal_hosts
    }


def _service(site: SiteSpec, svc: InferenceServiceSpec) -> dict:
    """Selector-less: Kubernetes leaves its EndpointSlices to the agents (label kubernetes.io/service-name)."""
    labels = _labels(svc.name, svc.name, "inference", site, runtime=svc.runtime, classification=svc.classification)
    return manifest("v1", "Service", metadata(svc.name, site.namespace, labels), spec={
        "type": "ClusterIP",
        "ports": [{"name": "http", "port": svc.endpoint.port, "targetPort": svc.endpoint.port, "protocol": "TCP"}],
    })


def _host_objects(site: SiteSpec, state: DesiredState) -> list[dict]:
    host, ns = state.host, site.namespace
    labels = _labels(AGENT, host, "metal-agent", site, metal_host=host)
    cm, lease, sa = config_map_name(host), lease_name(host), f"{host}-metal-agent"
    version = state.version_hash()
    slices = [slice_name(s.name, host) for s in state.services]
    rules = [
        {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": [cm], "verbs": ["get", "list", "watch"]},
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "resourceNames": [lease],
         "verbs": ["get", "update", "patch"]},
        # RBAC cannot restrict `create` by resourceName (the name is not known before the object exists), so
        # creating EndpointSlices and Events is namespace-wide; get/update/delete are limited to this host's slices.
        {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["create"]},
        {"apiGroups": [""], "resources": ["events"], "verbs": ["create"]},
    ]
    if slices:
        rules.insert(2, {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "resourceNames": slices,
                         "verbs": ["get", "update", "patch", "delete"]})
        # the Services' uids, for the slices' ownerReferences: deleting a Service garbage-collects its slices
        rules.insert(3, {"apiGroups": [""], "resources": ["services"],
                         "resourceNames": sorted({s.name for s in state.services}), "verbs": ["get"]})
    return [
        manifest("v1", "ConfigMap", metadata(cm, ns, labels, {"llmkube.dev/desired-version": version}),
                 data={DESIRED_STATE_KEY: state.to_json(), VERSION_KEY: version}),
        manifest("v1", "ServiceAccount", metadata(sa, ns, labels), automountServiceAccountToken=False),
        manifest("rbac.authorization.k8s.io/v1", "Role", metadata(sa, ns, labels), rules=rules),
        manifest("rbac.authorization.k8s.io/v1", "RoleBinding", metadata(sa, ns, labels),
                 roleRef={"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": sa},
                 subjects=[{"kind": "ServiceAccount", "name": sa, "namespace": ns}]),
        manifest("coordination.k8s.io/v1", "Lease", metadata(lease, ns, labels),
                 spec={"holderIdentity": f"{AGENT}/{host}", "leaseDurationSeconds": 30}),
    ]


def _alerts(site: SiteSpec) -> dict:
    """Fires when a host's agent stops reporting (no heartbeat metric, or a stale one)."""
    rules = []
    for h in site.metal_hosts:
        sel = f'{HEARTBEAT_METRIC}{{host="{h.name}"}}'
        rules.append({
            "alert": "MetalAgentNotReporting",
            "expr": f"(time() - max({sel}) > 60) or absent({sel})",
            "for": "2m",
            "labels": {"severity": "critical", "metal_host": h.name, "site": site.name},
            "annotations": {"summary": f"metal-agent on {h.name} stopped reporting",
                            "description": f"No heartbeat from the metal-agent on {h.name} ({h.address}) for over "
                                           f"a minute: its services may be unsupervised. Check `launchctl list | grep "
                                           f"llmkube` on the host and its Lease {lease_name(h.name)}."},
        })
    labels = _labels(AGENT, site.name, "metal-agent", site)
    return manifest("monitoring.coreos.com/v1", "PrometheusRule", metadata(f"{site.name}-metal-agents", site.namespace,
                                                                            labels),
                    spec={"groups": [{"name": "llmkube-metal-agents", "rules": rules}]})


def plan_metal(site: SiteSpec, services: list[tuple[InferenceServiceSpec, ModelSpec]]) -> list[dict]:
    """All cluster objects for a site's metal services (empty when there are none)."""
    if not services:
        return []
    if not site.metal_hosts:
        raise PlanError(f"services[{services[0][0].name}].accelerator.vendor",
                        "metal services need site.metalHosts (Apple Silicon hosts running llmkube-metal-agent)")
    states = desired_states(site, services)
    out = [_service(site, svc) for svc, _ in services]
    for state in states.values():
        out += _host_objects(site, state)
    out.append(_alerts(site))
    return out
