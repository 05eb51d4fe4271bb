"""NetworkPolicy peers come from plan/network: DNS, namespaces and ports spelled once for every planner."""

from __future__ import annotations

from llmkube_iac.plan.network import CLUSTER_DNS_POD_LABELS, dns_egress, namespace_peer
from llmkube_iac.plan.stack import plan_stack
from llmkube_iac.spec import load_stack_config

ROUTER = {
    "name": "gw",
    "masterKeySecret": {"name": "gw-keys", "key": "master"},
    "backends": [{"name": "local", "service": "chat"}],
    "modelGroups": [{"name": "chat", "backends": ["local"]}],
}


def _plan(**network):
    return plan_stack(
        load_stack_config(
            {
                "site": {"name": "lab", "jurisdiction": "DE", "network": {"defaultDenyEgress": True, **network}},
                "models": [{"name": "m", "source": "pvc://models/m.gguf"}],
                "services": [{"name": "chat", "model": "m", "network": {"allowedNamespaces": ["apps"]}}],
                "routers": [ROUTER],
            }
        )
    )


def _policy(manifests, name):
    return next(m for m in manifests if m["kind"] == "NetworkPolicy" and m["metadata"]["name"] == name)


def test_namespace_peers_use_the_immutable_name_label():
    plan = _plan()
    svc = _policy(plan.services["chat"].manifests, "chat")
    assert namespace_peer("apps") in svc["spec"]["ingress"][0]["from"]
    prometheus = {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}}}
    scrapers = [{**namespace_peer("monitoring"), **prometheus}]
    assert svc["spec"]["ingress"][1]["from"] == scrapers
    assert namespace_peer("apps") == {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "apps"}}}


def test_site_dns_egress_names_the_cluster_dns_pods_in_the_dns_namespace():
    plan = _plan(dnsNamespace="dns-system")
    deny = _policy(plan.site, "default-deny-egress")
    rule = deny["spec"]["egress"][0]
    site = load_stack_config(
        {"site": {"name": "lab", "jurisdiction": "DE", "network": {"dnsNamespace": "dns-system"}}}
    ).site
    assert rule == dns_egress(site)
    peer = rule["to"][0]
    assert peer["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "dns-system"}
    assert peer["podSelector"]["matchLabels"] == CLUSTER_DNS_POD_LABELS
    assert {(p["protocol"], p["port"]) for p in rule["ports"]} == {("UDP", 53), ("TCP", 53)}


def test_download_job_dns_egress_is_the_sites_rule():
    plan = plan_stack(
        load_stack_config(
            {
                "site": {"name": "lab", "jurisdiction": "DE", "network": {"defaultDenyEgress": True}},
                "models": [{"name": "m", "source": "https://models.lab.local/m.gguf"}],
                "services": [{"name": "chat", "model": "m"}],
            }
        )
    )
    site_dns = _policy(plan.site, "default-deny-egress")["spec"]["egress"][0]
    job_policy = next(m for m in plan.models["m"][1] if m["kind"] == "NetworkPolicy")
    assert job_policy["spec"]["egress"][0] == site_dns


def test_router_dns_egress_is_the_sites_rule():
    """Policies are additive: the router's own DNS rule may not open more of kube-system than default-deny."""
    plan = _plan()
    site_dns = _policy(plan.site, "default-deny-egress")["spec"]["egress"][0]
    router = _policy(plan.routers["gw"], "gw")
    assert router["spec"]["egress"][0] == site_dns
