"""Metal services -> what the cluster needs so Apple Silicon hosts join the fleet.

Kubernetes cannot schedule Metal workloads, so a service with accelerator `metal` renders no
Deployment: a selector-less Service, one desired-state ConfigMap per host (the contract in
spec/metal.py), one least-privilege identity per host's agent, a Lease per host for heartbeats, one
EndpointSlice per service and host (created not ready; the agent only updates it), and a
PrometheusRule that fires when an agent goes quiet.
"""

from __future__ import annotations

import ipaddress

from ..hardware import vendor
from ..runtimes import RUNTIMES, ServeContext, runtime
from ..spec import InferenceServiceSpec, ModelSpec, SiteSpec
from ..spec.metal import (
    AGENT,
    DESIRED_STATE_KEY,
    VERSION_KEY,
    DesiredState,
    MetalServiceState,
    config_map_name,
    lease_name,
    slice_name,
)
from ..spec.priority import PRIORITY_RANK
from ..units import GIB
from .errors import PlanError
from .meta import manifest, metadata, object_labels
from .metal_keys import metal_api_key

HEARTBEAT_METRIC = "llmkube_metal_agent_heartbeat_timestamp_seconds"


def _labels(
    name: str, instance: str, component: str, site: SiteSpec, vendor_name: str | None, **extra
) -> dict[str, str]:
    return object_labels(name, instance, component, site=site.name, vendor=vendor_name, **extra)


def _hosts_for(site: SiteSpec, svc: InferenceServiceSpec) -> list[str]:
    known = [h.name for h in site.metal_hosts]
    if not svc.hosts:
        return known
    unknown = [h for h in svc.hosts if h not in known]
    if unknown:
        raise PlanError(
            f"services[{svc.name}].hosts",
            f"unknown metal host(s) {', '.join(unknown)}; the site declares: {', '.join(known) or 'none'}",
        )
    return list(svc.hosts)


def service_state(svc: InferenceServiceSpec, model: ModelSpec) -> MetalServiceState:
    """One service as the agent sees it: the runtime's native entry, args templated on {model}/{host}/{port}."""
    rt = runtime(svc.runtime)
    native = rt.native
    if native is None:
        able = [n for n, r in RUNTIMES.items() if r.native]
        raise PlanError(
            f"services[{svc.name}].runtime",
            f"{svc.runtime} has no native macOS build; use {', '.join(able)} on metal hosts",
        )
    fmt = model.resolved_format
    if native.model_formats and fmt not in native.model_formats:
        raise PlanError(
            f"services[{svc.name}].model",
            f"runtime {svc.runtime} on metal hosts opens {' or '.join(native.model_formats)} weights, not "
            f"{fmt}; pick a model in that format (or set model.format if it is one)",
        )
    served = svc.served_model
    ctx = ServeContext(
        service=svc,
        model=model,
        model_path="{model}",
        vendor=vendor(svc.accelerator.vendor),
        port=svc.endpoint.port,
        served_name=served,
    )
    src = model.parsed_source
    version = model.sha256 or (src.revision if src.pinned else None)  # a new commit is a new cache entry
    cache_key = f"{svc.model_name}/{(version or 'unpinned')[:16]}"
    args = native.build_args(ctx)
    key = metal_api_key(svc)
    if key and native.api_key_file_flag:  # the agent writes the Secret's key to a file only it and the runtime read
        args += [native.api_key_file_flag, "{api_key_file}"]
    return MetalServiceState(
        name=svc.name,
        source=model.source,
        sha256=model.sha256,
        cache_key=cache_key,
        runtime=native.name,
        args=tuple(args),
        port=svc.endpoint.port,
        health_path=native.health_path.replace("{served}", served),
        memory_estimate_bytes=int(model.size_gi_b * GIB) if model.size_gi_b else None,
        priority=PRIORITY_RANK[svc.priority],
        model=model.to_config(),
        service={**svc.to_config(), "model": model.to_config()},
        api_key_secret=key,
    )


def desired_states(site: SiteSpec, services: list[tuple[InferenceServiceSpec, ModelSpec]]) -> dict[str, DesiredState]:
    """Per host, the services it must run (ports must not collide on one host)."""
    per_host: dict[str, list[MetalServiceState]] = {h.name: [] for h in site.metal_hosts}
    for svc, model in services:
        state = service_state(svc, model)
        for host in _hosts_for(site, svc):
            clash = [s.name for s in per_host[host] if s.port == state.port]
            if clash:
                raise PlanError(
                    f"services[{svc.name}].endpoint.port",
                    f"port {state.port} is already used by {clash[0]} on metal host {host}; pick another",
                )
            per_host[host].append(state)
    return {
        h.name: DesiredState(
            host=h.name,
            address=h.address,
            namespace=site.namespace,
            lease_name=lease_name(h.name),
            memory_budget_bytes=int(h.unified_memory_gi_b * h.usable_fraction * GIB),
            services=tuple(per_host[h.name]),
        )
        for h in site.metal_hosts
    }


def _service(site: SiteSpec, svc: InferenceServiceSpec) -> dict:
    """Selector-less: Kubernetes leaves its EndpointSlices to the agents (label kubernetes.io/service-name)."""
    labels = _labels(
        svc.name,
        svc.name,
        "inference",
        site,
        svc.accelerator.vendor,
        runtime=svc.runtime,
        classification=svc.classification,
    )
    return manifest(
        "v1",
        "Service",
        metadata(svc.name, site.namespace, labels),
        spec={
            "type": "ClusterIP",
            "ports": [{"name": "http", "port": svc.endpoint.port, "targetPort": svc.endpoint.port, "protocol": "TCP"}],
        },
    )


def endpoint_slice(site: SiteSpec, state: DesiredState, svc: MetalServiceState, vendor_name: str | None = None) -> dict:
    """Pulumi creates each (service, host) slice, not ready, so the agent only ever updates slices it is named
    on: it needs no `create`, which RBAC cannot restrict by name (an agent able to create slices could attach
    its address to any Service, the gateway's included). The agent flips readiness; patchForce lets a later
    `pulumi up` take the fields back (the agent re-asserts them within its resync period)."""
    labels = {
        **_labels(AGENT, state.host, "metal-agent", site, vendor_name, metal_host=state.host),
        "kubernetes.io/service-name": svc.name,
        "endpointslice.kubernetes.io/managed-by": AGENT,
    }
    return manifest(
        "discovery.k8s.io/v1",
        "EndpointSlice",
        metadata(slice_name(svc.name, state.host), site.namespace, labels, {"pulumi.com/patchForce": "true"}),
        addressType=address_type(state.address),
        endpoints=[
            {
                "addresses": [state.address],
                "hostname": state.host,
                "conditions": {"ready": False, "serving": False, "terminating": False},
            }
        ],
        ports=[{"name": "http", "port": svc.port, "protocol": "TCP"}],
    )


def address_type(address: str) -> str:
    """EndpointSlice addressType of a metal host's address (IPv4 or IPv6)."""
    try:
        return "IPv6" if ipaddress.ip_address(address).version == 6 else "IPv4"
    except ValueError:
        raise PlanError(
            "site.metalHosts[].address",
            f"{address!r} is not an IP address: EndpointSlices advertise the host by IP (for example 10.20.0.11)",
        ) from None


def _host_objects(site: SiteSpec, state: DesiredState, vendor_name: str | None) -> list[dict]:
    host, ns = state.host, site.namespace
    labels = _labels(AGENT, host, "metal-agent", site, vendor_name, metal_host=host)
    cm, lease, sa = config_map_name(host), lease_name(host), f"{host}-metal-agent"
    version = state.version_hash()
    slices = [slice_name(s.name, host) for s in state.services]
    keys = sorted({s.api_key_secret.name for s in state.services if s.api_key_secret})
    rules = [
        {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": [cm], "verbs": ["get", "list", "watch"]},
        {
            "apiGroups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "resourceNames": [lease],
            "verbs": ["get", "update", "patch"],
        },
    ]
    if slices:  # only the slices Pulumi created for this host: no create, no delete
        rules.append(
            {
                "apiGroups": ["discovery.k8s.io"],
                "resources": ["endpointslices"],
                "resourceNames": slices,
                "verbs": ["get", "update", "patch"],
            }
        )
    if keys:  # the API keys of this host's runtimes, and nothing else
        rules.append({"apiGroups": [""], "resources": ["secrets"], "resourceNames": keys, "verbs": ["get"]})
    # RBAC cannot restrict `create` by name: Events (status for humans) are the one namespace-wide grant.
    rules.append({"apiGroups": [""], "resources": ["events"], "verbs": ["create"]})
    return [
        manifest(
            "v1",
            "ConfigMap",
            metadata(cm, ns, labels, {"llmkube.dev/desired-version": version}),
            data={DESIRED_STATE_KEY: state.to_json(), VERSION_KEY: version},
        ),
        manifest("v1", "ServiceAccount", metadata(sa, ns, labels), automountServiceAccountToken=False),
        manifest("rbac.authorization.k8s.io/v1", "Role", metadata(sa, ns, labels), rules=rules),
        manifest(
            "rbac.authorization.k8s.io/v1",
            "RoleBinding",
            metadata(sa, ns, labels),
            roleRef={"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": sa},
            subjects=[{"kind": "ServiceAccount", "name": sa, "namespace": ns}],
        ),
        manifest(
            "coordination.k8s.io/v1",
            "Lease",
            metadata(lease, ns, labels),
            spec={"holderIdentity": f"{AGENT}/{host}", "leaseDurationSeconds": 30},
        ),
    ] + [endpoint_slice(site, state, s, vendor_name) for s in state.services]


def _alerts(site: SiteSpec, vendor_name: str | None) -> dict:
    """Fires when a host's agent stops reporting (no heartbeat metric, or a stale one)."""
    rules = []
    for h in site.metal_hosts:
        sel = f'{HEARTBEAT_METRIC}{{host="{h.name}"}}'
        rules.append(
            {
                "alert": "MetalAgentNotReporting",
                "expr": f"(time() - max({sel}) > 60) or absent({sel})",
                "for": "2m",
                "labels": {"severity": "critical", "metal_host": h.name, "site": site.name},
                "annotations": {
                    "summary": f"metal-agent on {h.name} stopped reporting",
                    "description": f"No heartbeat from the metal-agent on {h.name} ({h.address}) for over "
                    f"a minute: its services may be unsupervised. Check `launchctl list | grep "
                    f"llmkube` on the host and its Lease {lease_name(h.name)}.",
                },
            }
        )
    labels = _labels(AGENT, site.name, "metal-agent", site, vendor_name)
    return manifest(
        "monitoring.coreos.com/v1",
        "PrometheusRule",
        metadata(f"{site.name}-metal-agents", site.namespace, labels),
        spec={"groups": [{"name": "llmkube-metal-agents", "rules": rules}]},
    )


def plan_metal(site: SiteSpec, services: list[tuple[InferenceServiceSpec, ModelSpec]]) -> list[dict]:
    """All cluster objects for a site's metal services (empty when there are none)."""
    if not services:
        return []
    if not site.metal_hosts:
        raise PlanError(
            f"services[{services[0][0].name}].accelerator.vendor",
            "metal services need site.metalHosts (Apple Silicon hosts running llmkube-metal-agent)",
        )
    states = desired_states(site, services)
    # the hosts' objects carry the vendor of the services they run (one, unless the table grows a second)
    vendors = sorted({svc.accelerator.vendor for svc, _ in services})
    host_vendor = vendors[0] if len(vendors) == 1 else None
    out = [_service(site, svc) for svc, _ in services]
    for state in states.values():
        out += _host_objects(site, state, host_vendor)
    out.append(_alerts(site, host_vendor))
    return out
