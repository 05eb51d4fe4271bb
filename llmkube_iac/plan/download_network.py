"""The NetworkPolicy of a model's download Job: nothing may call it, and it may call only DNS and its store.

Why its own policy: the Job runs the site's tools image with a Hugging Face token or store
credentials; without a policy it could reach every address (cluster Services, the cloud metadata
endpoint, the internet on any port). NetworkPolicies select by address, not by name, so "its store"
is the store's port on the site's egressAllowCIDRs when the site lists them, else any public or
private address but the link-local range (metadata endpoints); at a default-deny site without
CIDRs the site's own egress policy decides and this one adds nothing but DNS.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ..spec import ModelSpec, SiteSpec
from .meta import manifest, metadata
from .network import dns_egress, tcp_ports

HF_DEFAULT = "https://huggingface.co"
# link-local: cloud metadata endpoints (169.254.169.254, fd00:ec2::254 is unique-local and stays reachable
# only where the site allows it)
ANYWHERE_BUT_LINK_LOCAL = (
    {"ipBlock": {"cidr": "0.0.0.0/0", "except": ["169.254.0.0/16"]}},
    {"ipBlock": {"cidr": "::/0", "except": ["fe80::/10"]}},
)


def _url_port(url: str) -> int:
    parts = urlsplit(url)
    return parts.port or (80 if parts.scheme == "http" else 443)


def store_ports(site: SiteSpec, model: ModelSpec) -> list[int]:
    """TCP ports the download reaches its store on: hf:// through the site's hfEndpoint (or the Hub),
    http(s):// on the URL's port, s3:// on 443."""
    src = model.parsed_source
    if src.scheme == "hf":
        return [_url_port(site.hf_endpoint or HF_DEFAULT)]
    if src.scheme in ("http", "https"):
        return [_url_port(src.uri)]
    return [443]


def download_network_policy(site: SiteSpec, model: ModelSpec, name: str, labels: dict, pod_selector: dict) -> dict:
    """No ingress; egress to the cluster DNS and to the store's port (see the module docstring for where)."""
    egress = [dns_egress(site)]
    ports = tcp_ports(store_ports(site, model))
    if site.network.egress_allow_cidrs:
        egress.append({"to": [{"ipBlock": {"cidr": c}} for c in site.network.egress_allow_cidrs], "ports": ports})
    elif not site.deny_egress:
        egress.append({"to": [dict(p) for p in ANYWHERE_BUT_LINK_LOCAL], "ports": ports})
    return manifest(
        "networking.k8s.io/v1",
        "NetworkPolicy",
        metadata(name, site.namespace, labels),
        spec={
            "podSelector": {"matchLabels": dict(pod_selector)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [],
            "egress": egress,
        },
    )
