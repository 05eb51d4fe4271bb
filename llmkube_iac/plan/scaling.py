"""Autoscaling (KEDA on the runtime's queue metric, or HPA on CPU), PodMonitor and PDB."""

from __future__ import annotations

from ..runtimes import Runtime
from ..spec import InferenceServiceSpec, SiteSpec
from .meta import manifest, metadata


def plan_autoscaler(site: SiteSpec, svc: InferenceServiceSpec, rt: Runtime, ns: str, labels: dict) -> dict | None:
    auto = svc.autoscaling
    if not auto:
        return None
    target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": svc.name}
    if auto.signal == "cpu":
        return manifest(
            "autoscaling/v2",
            "HorizontalPodAutoscaler",
            metadata(svc.name, ns, labels),
            spec={
                "scaleTargetRef": target,
                "minReplicas": auto.min_replicas,
                "maxReplicas": auto.max_replicas,
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {"type": "Utilization", "averageUtilization": int(auto.target)},
                        },
                    }
                ],
                "behavior": {"scaleDown": {"stabilizationWindowSeconds": auto.cooldown_seconds}},
            },
        )
    query = f'sum({rt.queue_metric}{{namespace="{ns}",service="{svc.name}"}}) or vector(0)'
    return manifest(
        "keda.sh/v1alpha1",
        "ScaledObject",
        metadata(svc.name, ns, labels),
        spec={
            "scaleTargetRef": target,
            "minReplicaCount": auto.min_replicas,
            "maxReplicaCount": auto.max_replicas,
            "cooldownPeriod": auto.cooldown_seconds,
            "triggers": [
                {
                    "type": "prometheus",
                    "metadata": {
                        "serverAddress": site.monitoring.prometheus_url,
                        "query": query,
                        "threshold": f"{auto.target:g}",
                        "activationThreshold": "0",
                    },
                }
            ],
        },
    )


def plan_pod_monitor(svc: InferenceServiceSpec, rt: Runtime, ns: str, labels: dict, selector: dict) -> dict | None:
    if not rt.metrics_path:
        return None
    return manifest(
        "monitoring.coreos.com/v1",
        "PodMonitor",
        metadata(svc.name, ns, labels),
        spec={
            "selector": {"matchLabels": selector},
            "podMetricsEndpoints": [
                {
                    "port": "http",
                    "path": rt.metrics_path,
                    "interval": "15s",
                    # the queue query above selects by service: carry our label onto every series
                    "relabelings": [
                        {
                            "sourceLabels": ["__meta_kubernetes_pod_label_llmkube_dev_service"],
                            "targetLabel": "service",
                            "action": "replace",
                        }
                    ],
                }
            ],
        },
    )


def plan_pdb(svc: InferenceServiceSpec, ns: str, labels: dict, selector: dict) -> dict | None:
    if svc.max_replicas <= 1:
        return None
    return manifest(
        "policy/v1",
        "PodDisruptionBudget",
        metadata(svc.name, ns, labels),
        spec={
            "maxUnavailable": 1,
            "selector": {"matchLabels": selector},
        },
    )
