"""Router -> per-zone ConfigMap, Deployment, Service, NetworkPolicy, PodMonitor, HPA/PDB; TLS Certificate.

Pure: a validated RouterSpec, its site and the stack's services in, wire-form manifests out.
The sovereign zone (Service `<router>`) mounts no provider key and may only egress to the site's
inference Services and DNS; the external zone (`<router>-external`) may also reach providers.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..hardware import vendor
from ..runtimes import runtime
from ..spec import InferenceServiceSpec, SiteSpec
from ..spec.base import short_digest
from ..spec.priority import GATEWAY_PRIORITY_CLASS
from ..spec.router import RouterSpec
from .endpoints import router_zone_labels, service_host
from .federation import check_federation, federation_ingress, federation_service, peer_egress
from .meta import NAME_LABEL, discovery_labels, manifest, metadata, selector_labels, standard_labels
from .network import any_namespace_peer, dns_egress, namespace_peer, pods_peer, tcp_ports
from .router_config import (
    AUDIT_DIR,
    BASE_ENV,
    CONFIG_DIR,
    LITELLM_IMAGE,
    METRICS_PORT,
    ZoneConfig,
    check_backends,
    external_egress_ports,
    plan_zone_config,
    zones_of,
)
from .scanner import ROUTER_KEYS_IN_ENV, add_skips
from .security import container_security_context, empty_dir, pod_security_context
from .service import double_cpu

PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10")
TLS_DIR = "/etc/litellm-tls"
PEER_CA_DIR = "/etc/llmkube-peer-ca"  # the CA bundle peers' federation certificates chain to
PEER_CA_FILE = "ca.crt"  # its file, whatever the Secret key is named (a key may not be a volume path)


def _labels(site: SiteSpec, router: RouterSpec, zone: ZoneConfig) -> dict:
    return {
        **standard_labels(zone.name, router.name, "router"),
        **router_zone_labels(router.name, zone.zone),
        **discovery_labels(site=site.name),
    }


def plan_router(
    site: SiteSpec, router: RouterSpec, services: Sequence[InferenceServiceSpec], costs: dict[str, float] | None = None
) -> list[dict]:
    """All objects of one Router; PlanError names the field when a backend cannot be resolved.
    `costs` ($/token by local service) become the local deployments' LiteLLM price."""
    by_name = {s.name: s for s in services}
    check_backends(router, by_name)
    check_federation(site, router)
    router_labels = {
        **standard_labels(router.name, router.name, "router"),
        **discovery_labels(site=site.name, router=router.name),
    }
    out: list[dict] = []
    zones = [plan_zone_config(site, router, by_name, z, costs) for z in zones_of(router)]
    for zone in zones:
        out += _zone_objects(site, router, zone, by_name)
    if site.cert_issuer:
        out.append(_certificate(site, router, zones, router_labels))
    if router.federation:
        sovereign = zones[0]
        out.append(
            federation_service(
                site, router, _labels(site, router, sovereign), selector_labels(sovereign.name, router.name)
            )
        )
    return out


def _zone_objects(site: SiteSpec, router: RouterSpec, zone: ZoneConfig, services: dict) -> list[dict]:
    ns = site.namespace
    labels = _labels(site, router, zone)
    selector = selector_labels(zone.name, router.name)
    config_name = f"{zone.name}-config"
    digest = short_digest("".join(f"{k}\0{v}\0" for k, v in sorted(zone.files.items())))
    tls = bool(site.cert_issuer)
    env: list[dict] = [{"name": k, "value": v} for k, v in BASE_ENV.items()]
    env += [{"name": k, "value": v} for k, v in sorted(zone.plain_env.items())]
    env += [
        {"name": k, "valueFrom": {"secretKeyRef": {"name": s, "key": key}}}
        for k, (s, key) in sorted(zone.secret_env.items())
    ]
    args = [
        "--config",
        f"{CONFIG_DIR}/config.yaml",
        "--host",
        "0.0.0.0",
        "--port",
        str(router.port),
        "--num_workers",
        "1",
    ]
    mounts = [{"name": "config", "mountPath": CONFIG_DIR, "readOnly": True}, {"name": "tmp", "mountPath": "/tmp"}]
    volumes = [{"name": "config", "configMap": {"name": config_name}}, empty_dir("tmp", "1Gi")]
    if tls:
        args += ["--ssl_keyfile_path", f"{TLS_DIR}/tls.key", "--ssl_certfile_path", f"{TLS_DIR}/tls.crt"]
        mounts.append({"name": "tls", "mountPath": TLS_DIR, "readOnly": True})
        volumes.append({"name": "tls", "secret": {"secretName": f"{router.name}-tls"}})
    if zone.zone == "sovereign" and router.peer_ca_secret:  # LiteLLM's HTTP client verifies peers with it
        ca = router.peer_ca_secret
        env.append({"name": "SSL_CERT_FILE", "value": f"{PEER_CA_DIR}/{PEER_CA_FILE}"})
        mounts.append({"name": "peer-ca", "mountPath": PEER_CA_DIR, "readOnly": True})
        volumes.append(
            {"name": "peer-ca", "secret": {"secretName": ca.name, "items": [{"key": ca.key, "path": PEER_CA_FILE}]}}
        )
    if router.audit.volume_claim:
        mounts.append({"name": "audit", "mountPath": AUDIT_DIR})
        volumes.append({"name": "audit", "persistentVolumeClaim": {"claimName": router.audit.volume_claim}})
    scheme = "HTTPS" if tls else "HTTP"
    container = {
        "name": "litellm",
        "image": LITELLM_IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "args": args,
        "ports": [
            {"name": "http", "containerPort": router.port, "protocol": "TCP"},
            {"name": "metrics", "containerPort": METRICS_PORT, "protocol": "TCP"},
        ],
        "env": env,
        "resources": {
            "requests": {"cpu": router.cpu, "memory": router.memory},
            "limits": {"cpu": double_cpu(router.cpu), "memory": router.memory},
        },
        "securityContext": container_security_context(),
        "volumeMounts": mounts,
        "startupProbe": _probe("/health/liveliness", scheme, failure_threshold=60),
        "livenessProbe": _probe("/health/liveliness", scheme, failure_threshold=3),
        "readinessProbe": _probe("/health/readiness", scheme, failure_threshold=3),
    }
    pod_spec = {
        "serviceAccountName": zone.name,  # one identity per zone: what one zone may do, the other may not
        "priorityClassName": GATEWAY_PRIORITY_CLASS,
        "automountServiceAccountToken": False,
        "securityContext": pod_security_context(),
        "enableServiceLinks": False,
        "terminationGracePeriodSeconds": 30,
        "containers": [container],
        "volumes": volumes,
    }
    deploy_spec: dict = {} if router.autoscaling else {"replicas": router.replicas}
    deploy_spec.update(
        {
            "selector": {"matchLabels": selector},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": labels, "annotations": {"llmkube.dev/config-hash": digest}},
                "spec": pod_spec,
            },
        }
    )
    out = [
        manifest("v1", "ServiceAccount", metadata(zone.name, ns, labels), automountServiceAccountToken=False),
        manifest("v1", "ConfigMap", metadata(config_name, ns, labels), data=dict(sorted(zone.files.items()))),
        add_skips(
            manifest("apps/v1", "Deployment", metadata(zone.name, ns, labels), spec=deploy_spec), ROUTER_KEYS_IN_ENV
        ),
        manifest(
            "v1",
            "Service",
            metadata(zone.name, ns, labels),
            spec={
                "type": "ClusterIP",
                "selector": selector,
                "ports": [{"name": "http", "port": router.port, "targetPort": "http", "protocol": "TCP"}],
            },
        ),
        _network_policy(site, router, zone, labels, selector, services),
        manifest(
            "monitoring.coreos.com/v1",
            "PodMonitor",
            metadata(zone.name, ns, labels),
            spec={
                "selector": {"matchLabels": selector},
                "podMetricsEndpoints": [{"port": "metrics", "path": "/metrics", "interval": "30s"}],
            },
        ),
    ]
    if router.autoscaling:
        a = router.autoscaling
        out.append(
            manifest(
                "autoscaling/v2",
                "HorizontalPodAutoscaler",
                metadata(zone.name, ns, labels),
                spec={
                    "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": zone.name},
                    "minReplicas": a.min_replicas,
                    "maxReplicas": a.max_replicas,
                    "metrics": [
                        {
                            "type": "Resource",
                            "resource": {
                                "name": "cpu",
                                "target": {"type": "Utilization", "averageUtilization": a.cpu_target},
                            },
                        }
                    ],
                },
            )
        )
    if (router.autoscaling.min_replicas if router.autoscaling else router.replicas) > 1:
        out.append(
            manifest(
                "policy/v1",
                "PodDisruptionBudget",
                metadata(zone.name, ns, labels),
                spec={"maxUnavailable": 1, "selector": {"matchLabels": selector}},
            )
        )
    return out


def _probe(path: str, scheme: str, failure_threshold: int) -> dict:
    return {
        "httpGet": {"path": path, "port": "http", "scheme": scheme},
        "periodSeconds": 10,
        "timeoutSeconds": 5,
        "failureThreshold": failure_threshold,
    }


def _network_policy(
    site: SiteSpec, router: RouterSpec, zone: ZoneConfig, labels: dict, selector: dict, services: dict
) -> dict:
    """Ingress: clients on the router port, the Prometheus pods on the metrics port. Egress: DNS, the zone's
    inference pods; external: providers."""
    port = tcp_ports([router.port])
    clients = (
        [
            namespace_peer(n)
            for n in dict.fromkeys((*router.client_namespaces, site.monitoring.namespace, site.namespace))
        ]
        if router.client_namespaces
        else [any_namespace_peer()]
    )
    egress = [dns_egress(site)]
    local = [services[u["service"]] for u in zone.upstreams]
    pods = [s for s in local if vendor(s.accelerator.vendor).schedulable]
    if pods:
        # egress is matched after Service DNAT: allow the runtimes' container ports
        ports = sorted({runtime(s.runtime).port for s in pods} | {s.endpoint.port for s in pods})
        egress.append(
            {
                "to": [
                    {
                        "podSelector": {
                            "matchExpressions": [
                                {"key": NAME_LABEL, "operator": "In", "values": sorted({s.name for s in pods})}
                            ]
                        }
                    }
                ],
                "ports": tcp_ports(ports),
            }
        )
    metal = [s for s in local if not vendor(s.accelerator.vendor).schedulable]
    if metal and site.metal_hosts:
        egress.append(
            {
                "to": [{"ipBlock": {"cidr": h.cidr}} for h in site.metal_hosts],
                "ports": tcp_ports(sorted({s.endpoint.port for s in metal})),
            }
        )
    if zone.zone == "sovereign":
        egress += peer_egress(router)
    if zone.zone == "external":
        egress.append(
            {
                "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": list(PRIVATE_RANGES)}}],
                "ports": tcp_ports(external_egress_ports(router)),
            }
        )
    return manifest(
        "networking.k8s.io/v1",
        "NetworkPolicy",
        metadata(zone.name, site.namespace, labels),
        spec={
            "podSelector": {"matchLabels": selector},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [
                {"from": clients, "ports": port},
                *(federation_ingress(router) if zone.zone == "sovereign" else []),
                {
                    "from": [
                        {
                            **namespace_peer(site.monitoring.namespace),
                            **pods_peer(site.monitoring.prometheus_pod_labels),
                        }
                    ],
                    "ports": tcp_ports([METRICS_PORT]),
                },
            ],
            "egress": egress,
        },
    )


def _certificate(site: SiteSpec, router: RouterSpec, zones: list[ZoneConfig], labels: dict) -> dict:
    names = []
    for z in zones:
        names += [
            z.name,
            f"{z.name}.{site.namespace}",
            f"{z.name}.{site.namespace}.svc",
            service_host(z.name, site.namespace),
        ]
    if router.federation:
        names.append(router.federation.host)
    return manifest(
        "cert-manager.io/v1",
        "Certificate",
        metadata(f"{router.name}-tls", site.namespace, labels),
        spec={
            "secretName": f"{router.name}-tls",
            "dnsNames": names,
            "duration": "2160h",
            "renewBefore": "360h",
            "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
            "usages": ["server auth", "digital signature", "key encipherment"],
            "issuerRef": {"name": site.cert_issuer, "kind": "ClusterIssuer", "group": "cert-manager.io"},
        },
    )


def zone_urls(site: SiteSpec, router: RouterSpec) -> dict[str, str]:
    """Base URLs clients use: `sovereign` always, `external` when the router has that zone."""
    scheme = "https" if site.cert_issuer else "http"
    urls = {"sovereign": f"{scheme}://{service_host(router.name, site.namespace)}:{router.port}/v1"}
    if router.has_external_zone:
        urls["external"] = f"{scheme}://{service_host(router.external_name, site.namespace)}:{router.port}/v1"
    return urls
