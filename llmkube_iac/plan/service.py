"""InferenceService -> Deployment, Service, ServiceAccount, NetworkPolicy, PodMonitor, autoscaler, PDB.

Pure: a validated service + its model + the site in, wire-form manifests out. Everything that
differs by vendor comes from hardware.py, everything that differs by runtime from runtimes/.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ..hardware import device_env, vendor
from ..runtimes import BASE_ENV, ServeContext, runtime
from ..spec import InferenceServiceSpec, ModelSpec, SiteSpec
from ..spec.priority import priority_class_name
from ..spec.router import RouterSpec
from ..spec.service import CLASSIFICATION_ORDER
from .endpoints import client_label, openai_base_url, router_zone_labels
from .errors import PlanError
from .meta import manifest, metadata, object_labels, selector_labels
from .model import MOUNT, ModelPlacement, fetch_job_name, placement, weights_gib
from .network import namespace_peer, pods_peer, tcp_ports
from .quota import queue_labels
from .router_config import zone_services, zones_of
from .scaling import plan_autoscaler, plan_pdb, plan_pod_monitor
from .scheduling import place
from .security import container_security_context, empty_dir, pod_security_context

NO_EGRESS_FROM = "confidential"  # model servers of this class and above get a NetworkPolicy denying all egress
_CONTEXT_TIERS = (
    (4096, "4k"),
    (8192, "8k"),
    (16384, "16k"),
    (32768, "32k"),
    (65536, "64k"),
    (131072, "128k"),
    (262144, "256k"),
)


@dataclass(frozen=True)
class ServicePlan:
    manifests: list[dict]
    base_url: str
    service_name: str
    namespace: str


def context_tier(tokens: int | None) -> str | None:
    if not tokens:
        return None
    return next((tier for limit, tier in _CONTEXT_TIERS if tokens <= limit), "1m")


def _labels(site: SiteSpec, svc: InferenceServiceSpec, model: ModelSpec, model_name: str, memory_tier) -> dict:
    labels = object_labels(
        svc.name,
        svc.name,
        "inference",
        site=site.name,
        service=svc.name,
        vendor=svc.accelerator.vendor,
        runtime=svc.runtime,
        mode=svc.mode,
        classification=svc.classification,
        model=model_name,
        priority=svc.priority,
        team=svc.team,
        context_tier=context_tier(svc.context_size or model.context_window),
        memory_tier=memory_tier,
    )
    for domain in model.domains:
        labels[f"domain.llmkube.dev/{domain}"] = "true"
    return labels


def _memory_request(svc: InferenceServiceSpec, model: ModelSpec, size_bytes: int | None) -> str:
    if svc.resources.memory:
        return svc.resources.memory
    gib = weights_gib(model, size_bytes)
    if gib is None:
        return "16Gi"
    if svc.device_count == 0 or svc.moe_cpu_offload:
        return f"{math.ceil(gib * 1.2 + 2)}Gi"  # weights live in host RAM
    return f"{max(16, math.ceil(gib * 0.5 + 8))}Gi"  # staging while loading to the devices


# $1 marker file, $2 expected sha256 (64 hex, or empty), $3 model source, $4 download Job name
VERIFY_SCRIPT = (
    'test -s "$1" || { printf \'llmkube: weights of %s are not in the cache (%s missing): the download Job %s has '
    'not completed\\n\' "$3" "$1" "$4"; exit 1; }; '
    'if [ -n "$2" ] && ! grep -Eq "\\"sha256\\" *: *\\"$2\\"" "$1"; then printf \'llmkube: cached weights do '
    'not match sha256 %s: delete the cache entry and re-run Job %s\\n\' "$2" "$4"; exit 1; fi'
)


def _verify_init(site: SiteSpec, place_: ModelPlacement, model: ModelSpec, job_hint: str) -> dict | None:
    """Fail fast, with a message saying what to do, when the cache is empty or holds other bytes."""
    if not place_.marker_path:
        return None
    return {
        "name": "verify-model",
        "image": site.tools_image,
        "imagePullPolicy": "IfNotPresent",
        # values travel as arguments ($1..$4), never inside the script text: a source is not shell code
        "command": [
            "/bin/sh",
            "-c",
            VERIFY_SCRIPT,
            "verify-model",
            place_.marker_path,
            place_.sha256 or "",
            model.source,
            job_hint,
        ],
        "resources": {"requests": {"cpu": "50m", "memory": "32Mi"}, "limits": {"cpu": "200m", "memory": "64Mi"}},
        "securityContext": container_security_context(),
        "volumeMounts": [{"name": "models", "mountPath": MOUNT, "readOnly": True}],
    }


def plan_service(
    site: SiteSpec,
    svc: InferenceServiceSpec,
    model: ModelSpec,
    model_name: str,
    size_bytes: int | None = None,
    routers: Sequence[RouterSpec] = (),
) -> ServicePlan:
    """The Kubernetes objects that serve one model; PlanError names the field when it cannot.

    `routers` are the site's routers: the service's NetworkPolicy admits exactly the zones that route to it."""
    profile = vendor(svc.accelerator.vendor)
    if not profile.schedulable:
        raise PlanError("accelerator.vendor", "metal services are served by metal hosts; the site plans them")
    rt = runtime(svc.runtime)
    image = svc.image or rt.image_for(profile.image_flavour)
    if not image:
        raise PlanError("image", f"runtime {svc.runtime} has no image for {profile.name}; set image")
    if svc.autoscaling and svc.autoscaling.signal == "queue" and not rt.queue_metric:
        raise PlanError("autoscaling.signal", f"runtime {svc.runtime} exports no queue metric; use signal: cpu")
    try:
        place_ = placement(model, model_name)
    except PlanError as err:
        raise err.under("model") from None
    where = place(site, svc, profile)
    ns = site.namespace
    memory_tier = f"{where.pool.memory_gi_b:g}Gi" if where.pool and where.pool.memory_gi_b else None
    labels = _labels(site, svc, model, model_name, memory_tier)
    selector = selector_labels(svc.name, svc.name)
    port = rt.port
    ctx = ServeContext(svc, model, place_.model_path, profile, port, svc.served_model)

    env = {**BASE_ENV, **device_env(profile, svc.device_count), **rt.build_env(ctx), **svc.env}
    devices = svc.device_count
    cpu = svc.resources.cpu or ("8" if devices else "4")
    memory = _memory_request(svc, model, size_bytes)
    requests = {"cpu": cpu, "memory": memory}
    limits = {"cpu": svc.resources.cpu_limit or double_cpu(cpu), "memory": memory}
    if profile.resource_key and devices:
        requests[profile.resource_key] = str(devices)
        limits[profile.resource_key] = str(devices)

    mounts = [
        {"name": "models", "mountPath": MOUNT, "readOnly": True},
        {"name": "tmp", "mountPath": "/tmp"},
        {"name": "cache", "mountPath": "/cache"},
    ]
    volumes = [place_.volume, empty_dir("tmp", "4Gi"), empty_dir("cache", "20Gi")]
    if profile.needs_shm and devices > 1:
        mounts.append({"name": "dshm", "mountPath": "/dev/shm"})
        volumes.append(empty_dir("dshm", "16Gi", memory=True))

    container = {
        "name": "server",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": rt.build_command(ctx),
        "args": rt.build_args(ctx) + list(svc.extra_args),
        "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}],
        "env": [{"name": k, "value": v} for k, v in env.items()],
        "resources": {"requests": requests, "limits": limits},
        "securityContext": container_security_context(),
        "volumeMounts": mounts,
        **rt.probes(),
    }
    if not container["command"]:
        del container["command"]
    init = _verify_init(site, place_, model, fetch_job_name(model_name, place_.cache_key))
    pod_spec = {
        "serviceAccountName": svc.name,
        "automountServiceAccountToken": False,
        "priorityClassName": priority_class_name(svc.priority),
        "securityContext": pod_security_context(profile.supplemental_groups),
        "terminationGracePeriodSeconds": 60,
        "enableServiceLinks": False,
        **({"initContainers": [init]} if init else {}),
        "containers": [container],
        "volumes": volumes,
    }
    if where.node_selector:
        pod_spec["nodeSelector"] = where.node_selector
    if where.tolerations:
        pod_spec["tolerations"] = where.tolerations

    # Devices are scarce: replace pods in place instead of surging onto devices that do not exist.
    strategy = (
        {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}
        if devices
        else {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    )
    deploy_spec: dict = {}
    if not svc.autoscaling:
        deploy_spec["replicas"] = svc.replicas
    deploy_spec.update(
        {
            "selector": {"matchLabels": selector},
            "strategy": strategy,
            # a service naming a team: its pods wait in the team's LocalQueue where Kueue runs (plan/quota.py)
            "template": {"metadata": {"labels": {**labels, **queue_labels(site, svc)}}, "spec": pod_spec},
        }
    )
    annotations = {"llmkube.dev/model-source": model.source}
    out = [
        manifest("v1", "ServiceAccount", metadata(svc.name, ns, labels), automountServiceAccountToken=False),
        manifest("apps/v1", "Deployment", metadata(svc.name, ns, labels, annotations), spec=deploy_spec),
        manifest(
            "v1",
            "Service",
            metadata(svc.name, ns, labels),
            spec={
                "type": svc.endpoint.service_type,
                "selector": selector,
                "ports": [{"name": "http", "port": svc.endpoint.port, "targetPort": "http", "protocol": "TCP"}],
            },
        ),
        _network_policy(site, svc, labels, selector, port, rt.metrics_path is not None, routers),
    ]
    monitor = plan_pod_monitor(svc, rt, ns, labels, selector)
    if monitor:
        out.append(monitor)
    scaler = plan_autoscaler(site, svc, rt, ns, labels)
    if scaler:
        out.append(scaler)
    pdb = plan_pdb(svc, ns, labels, selector)
    if pdb:
        out.append(pdb)
    return ServicePlan(out, openai_base_url(svc.name, ns, svc.endpoint.port), svc.name, ns)


def double_cpu(cpu: str) -> str:
    """Twice a CPU quantity (the default limit of a request): "500m" -> "1000m", "4" -> "8"."""
    if cpu.endswith("m"):
        return f"{int(cpu[:-1]) * 2}m"
    try:
        return f"{float(cpu) * 2:g}"
    except ValueError:
        return cpu


def _network_policy(
    site: SiteSpec,
    svc: InferenceServiceSpec,
    labels: dict,
    selector: dict,
    port: int,
    has_metrics: bool,
    routers: Sequence[RouterSpec],
) -> dict:
    """Ingress only from the router zones that route to the service, labelled clients, allowed namespaces,
    and the Prometheus pods of the metrics namespaces (the model port serves /metrics). Egress: none for
    confidential and restricted services (a model server calls nothing; denied, nothing can leak out)."""
    peers = [
        pods_peer(router_zone_labels(r.name, zone))
        for r in routers
        for zone in zones_of(r)
        if svc.name in zone_services(r, zone)
    ]
    peers += [pods_peer(client_label(svc.name))]
    peers += [namespace_peer(n) for n in svc.network.allowed_namespaces]
    rules = [{"from": peers, "ports": tcp_ports([port])}]
    if has_metrics and svc.network.metrics_namespaces:
        scrapers = [
            {**namespace_peer(n), **pods_peer(site.monitoring.prometheus_pod_labels)}
            for n in svc.network.metrics_namespaces
        ]
        rules.append({"from": scrapers, "ports": tcp_ports([port])})
    spec: dict = {"podSelector": {"matchLabels": selector}, "policyTypes": ["Ingress"], "ingress": rules}
    if CLASSIFICATION_ORDER.index(svc.classification) >= CLASSIFICATION_ORDER.index(NO_EGRESS_FROM):
        spec["policyTypes"] = ["Ingress", "Egress"]
        spec["egress"] = []
    return manifest("networking.k8s.io/v1", "NetworkPolicy", metadata(svc.name, site.namespace, labels), spec=spec)
