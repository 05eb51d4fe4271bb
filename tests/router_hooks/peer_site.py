"""The peer site for federation end to end: another site's real Router, next to the session's stack.

Site `hq` (a certIssuer, so its Router serves HTTPS) with Router `hq-gw`, shaped like the fleet example's
datacenter router: a local service (a loopback fake upstream), a team for the calling site `lab` with its
own key and a class ceiling below what `lab`'s route to it carries, and its own peer backend back to `lab`'s
sovereign zone (the session stack's real proxy) as the fallback of its groups, so a test can see that a
request `lab` federated here is not sent on (one hop) while a direct client of `hq` may take that route.
Its sovereign zone runs as its planned Deployment says (args, env), with a certificate from the CA `lab`
mounts as its peerCaSecret; only upstream URLs become loopback ones. Started once per session, on demand
(conftest.py): a LiteLLM proxy costs ~15 s of CPU on two cores.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from llmkube_iac.plan.router import TLS_DIR, plan_router
from llmkube_iac.spec import InferenceServiceSpec, SiteSpec
from llmkube_iac.spec.router import RouterSpec
from tests.support.loopback import free_port

from . import stack as lab_stack
from .harness import FakeUpstream, Proxy, deployment_env, write_configmap
from .stack import HQ_KEY, Stack, ambient_env

LAB = lab_stack.SITE

SITE = "hq"
SECRETS = {
    ("hq-gw-keys", "master"): "sk-hq-master-20",
    ("hq-gw-keys", "app"): "sk-hq-app-21",  # a client of hq's own
    ("hq-gw-keys", "lab"): HQ_KEY,  # the team key hq gave the lab site (lab's router holds it)
    ("hq-gw-keys", "to-lab"): lab_stack.SECRETS[("gw-keys", "hq-team")],  # hq's own key at lab's Router
}
KEYS = {"app": SECRETS[("hq-gw-keys", "app")], "master": SECRETS[("hq-gw-keys", "master")]}
LAB_CEILING = "internal"  # the class ceiling of lab's team here (lab's route to hq carries up to confidential)
ROUTER = {
    "name": "hq-gw",
    "masterKeySecret": {"name": "hq-gw-keys", "key": "master"},
    "backends": [
        {"name": "general", "service": "chat-general"},
        {"name": "broken", "service": "chat-broken"},  # nothing listens: its group always falls back
        {
            "name": "lab",
            "site": LAB,
            "router": "gw",
            "model": "chat",
            "keySecret": {"name": "hq-gw-keys", "key": "to-lab"},
            "maxClassification": "confidential",
            "jurisdiction": "DE",
        },
    ],
    "peerCaSecret": {"name": "fleet-ca", "key": "ca.crt"},
    "modelGroups": [
        {"name": "chat", "backends": ["general"], "fallbacks": ["chat-lab"]},
        {"name": "chat-broken", "backends": ["broken"], "fallbacks": ["chat-lab"]},
        {"name": "chat-lab", "backends": ["lab"]},
    ],
    "timeouts": {"numRetries": 0, "requestSeconds": 10, "allowedFails": 0, "cooldownSeconds": 2},
    "teams": [
        {"name": "app", "keySecret": {"name": "hq-gw-keys", "key": "app"}},
        {
            "name": LAB,
            "keySecret": {"name": "hq-gw-keys", "key": "lab"},
            # chat-lab too: only the one-hop rule (not the allowlist) keeps lab's requests from going back
            "models": ["chat", "chat-broken", "chat-lab"],
            "maxClassification": LAB_CEILING,
        },
    ],
    "federation": {"host": "gw.hq.fleet.internal", "addresses": ["10.10.0.10/32"], "clients": ["10.20.30.0/24"]},
}


def plan() -> list[dict]:
    site = SiteSpec(name=SITE, jurisdiction="FR", region="eu-west", cert_issuer="fleet-ca")
    services = [
        InferenceServiceSpec.model_validate({"name": n, "model": "qwen"}) for n in ("chat-general", "chat-broken")
    ]
    return plan_router(site, RouterSpec.model_validate(ROUTER), services)


@dataclass
class PeerSite:
    proxy: Proxy  # hq's sovereign zone (HTTPS)
    general: FakeUpstream  # its local service

    def stop(self) -> None:
        self.proxy.stop()
        self.general.stop()


def start_peer_site(tmp: Path, stack: Stack) -> PeerSite:
    """hq's Router on the port `stack` reserved for it (lab's sovereign zone already names it)."""
    manifests = plan()
    cm = next(m for m in manifests if m["kind"] == "ConfigMap" and m["metadata"]["name"] == "hq-gw-config")
    dep = next(m for m in manifests if m["kind"] == "Deployment" and m["metadata"]["name"] == "hq-gw")
    tls = tmp / "tls"  # the Secret cert-manager issues: tls.crt and tls.key
    stack.ca.issue("hq-gw", tls / "tls.crt", tls / "tls.key")
    general = FakeUpstream("general").start()
    urls = {
        "LLMKUBE_UPSTREAM_GENERAL": general.base_url,
        "LLMKUBE_UPSTREAM_BROKEN": f"http://127.0.0.1:{free_port()}/v1",
        "LLMKUBE_UPSTREAM_LAB": f"{stack.proxies['sovereign'].url}/v1",  # plain HTTP: lab has no certIssuer
        "SSL_CERT_FILE": str(stack.ca.ca_file),
    }
    env = {**ambient_env(stack.ups["attacker"]), **deployment_env(dep, urls, SECRETS)}
    proxy = Proxy(
        write_configmap(cm, tmp / "config"),
        env,
        tmp / "hq.log",
        deployment=dep,
        mounts={TLS_DIR: tls},
        port=stack.hq_port,
        ca_file=stack.ca.ca_file,
    )
    try:
        proxy.start()
    except AssertionError:
        general.stop()
        raise
    return PeerSite(proxy, general)
