"""NetworkPolicy building blocks shared by the site, service, router planners: DNS, namespaces, ports.

Why one module: the site's default-deny egress and each workload's own policy are additive, so a
peer spelled differently in two places silently widens what a pod may reach. Every planner builds
its peers and ports here.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..spec import SiteSpec

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"  # set by Kubernetes on every namespace (immutable)
# The cluster DNS pods (CoreDNS or kube-dns) in `site.network.dnsNamespace`: kubeadm, k3s and the managed
# distributions label them k8s-app=kube-dns, as the kube-dns Service selects them.
CLUSTER_DNS_POD_LABELS = {"k8s-app": "kube-dns"}


def any_namespace_peer() -> dict:
    """Every pod in every namespace."""
    return {"namespaceSelector": {}}


def namespace_peer(namespace: str) -> dict:
    """Every pod of one namespace."""
    return {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: namespace}}}


def pods_peer(labels: dict[str, str]) -> dict:
    """Pods of the policy's own namespace carrying these labels."""
    return {"podSelector": {"matchLabels": dict(labels)}}


def tcp_ports(ports: Iterable[int]) -> list[dict]:
    return [{"protocol": "TCP", "port": p} for p in ports]


def dns_egress(site: SiteSpec) -> dict:
    """The egress rule to cluster DNS (UDP and TCP 53): the DNS pods of the site's DNS namespace only, so
    a workload's own policy never opens more of that namespace than the site's default-deny does."""
    peer = {**namespace_peer(site.network.dns_namespace), "podSelector": {"matchLabels": dict(CLUSTER_DNS_POD_LABELS)}}
    return {"to": [peer], "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}
