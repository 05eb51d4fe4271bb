"""The Router under test: one router, both zones' real proxies, and the loopback upstreams around them.

Two local services and one external provider as fakes, two peer sites' Routers (federation, HTTPS:
`peer` with a certificate from the CA the sovereign zone trusts, `rogue` from a CA it does not),
plus an attacker host that no request may ever reach; the real peer site's Router (peer_site.py) on
demand. Started once per test session (conftest.py) and shared by the leak test, the adversarial
suite and the federation tests: starting a LiteLLM
proxy costs ~15 s of CPU on two cores, a fake upstream or a test CA next to nothing.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from llmkube_iac.plan.router import plan_router
from llmkube_iac.spec import InferenceServiceSpec, SiteSpec
from llmkube_iac.spec.router import RouterSpec
from tests.support.loopback import free_port

from .certs import Authority
from .harness import FakeUpstream, Proxy, deployment_env, litellm_bin, write_configmap

SECRETS = {
    ("gw-keys", "master"): "sk-master-0",
    ("gw-keys", "app"): "sk-app-1",
    ("gw-keys", "slow"): "sk-slow-2",
    ("gw-keys", "bot"): "sk-bot-3",
    ("gw-keys", "ext"): "sk-provider-4",
    ("gw-keys", "narrow"): "sk-narrow-5",
    ("gw-keys", "tight"): "sk-tight-7",
    ("gw-keys", "peer"): "sk-peer-8",  # this router's key at the peer site's Router
    ("gw-keys", "rogue"): "sk-rogue-9",
    ("gw-keys", "hq"): "sk-lab-at-hq-10",  # this router's key at the real peer Router (peer_site.py)
    ("gw-keys", "hq-team"): "sk-hq-at-lab-11",  # the real peer Router's key here (its way back, team hq)
}
SITE = "lab"  # this router's site: what it names itself to peers (x-llmkube-federated)
KEYS = {
    "app": "sk-app-1",
    "bot": "sk-bot-3",
    "slow": "sk-slow-2",
    "narrow": "sk-narrow-5",
    "tight": "sk-tight-7",
    "master": "sk-master-0",
    "hq": "sk-hq-at-lab-11",
}
PROVIDER_KEY = SECRETS[("gw-keys", "ext")]
PEER_KEY, ROGUE_KEY = SECRETS[("gw-keys", "peer")], SECRETS[("gw-keys", "rogue")]
HQ_KEY = SECRETS[("gw-keys", "hq")]
# Never to be seen by any upstream: the master key and every team key.
CLIENT_SECRETS = tuple(v for k, v in KEYS.items())
ROUTER = {
    "name": "gw",
    "masterKeySecret": {"name": "gw-keys", "key": "master"},
    "backends": [
        {"name": "local-a", "service": "chat-a"},
        {"name": "local-b", "service": "chat-b"},
        {
            "name": "ext",
            "provider": "openai-compatible",
            "model": "gpt-x",
            "apiBase": "https://api.example.com/v1",
            "region": "us-east-1",
            "jurisdiction": "US",
            "apiKeySecret": {"name": "gw-keys", "key": "ext"},
            "maxClassification": "public",
        },
        {
            "name": "peer",
            "site": "dc",
            "router": "dc-gw",
            "model": "chat",
            "keySecret": {"name": "gw-keys", "key": "peer"},
            "maxClassification": "confidential",
            "jurisdiction": "FR",
        },
        {
            "name": "rogue",
            "site": "dr",
            "router": "dr-gw",
            "model": "chat",
            "keySecret": {"name": "gw-keys", "key": "rogue"},
            "maxClassification": "confidential",
            "jurisdiction": "FR",
        },
        # the real peer site's Router (peer_site.py): its team for this site has a lower ceiling (internal)
        *(
            {
                "name": name,
                "site": "hq",
                "router": "hq-gw",
                "model": model,
                "keySecret": {"name": "gw-keys", "key": "hq"},
                "maxClassification": "confidential",
                "jurisdiction": "FR",
            }
            for name, model in (("hq", "chat"), ("hq-broken", "chat-broken"))
        ),
    ],
    "peerCaSecret": {"name": "peer-ca", "key": "ca.crt"},
    "modelGroups": [
        {"name": "chat", "backends": ["local-a", "local-b"], "fallbacks": ["chat-ext"]},
        {"name": "chat-ext", "backends": ["ext"]},
        {"name": "chat-peer", "backends": ["peer"]},
        {"name": "chat-mixed", "backends": ["local-a", "peer"]},
        {"name": "chat-rogue", "backends": ["rogue"]},
        {"name": "chat-hq", "backends": ["hq"]},
        {"name": "chat-hq-broken", "backends": ["hq-broken"]},
    ],
    "timeouts": {"numRetries": 0, "requestSeconds": 10, "allowedFails": 0, "cooldownSeconds": 2},
    "teams": [
        {"name": "app", "keySecret": {"name": "gw-keys", "key": "app"}, "zones": ["sovereign", "external"]},
        {
            "name": "bot",
            "keySecret": {"name": "gw-keys", "key": "bot"},
            "zones": ["external"],
            "classification": "public",
        },
        {"name": "slow", "keySecret": {"name": "gw-keys", "key": "slow"}, "rpm": 3, "zones": ["sovereign", "external"]},
        {
            "name": "narrow",
            "keySecret": {"name": "gw-keys", "key": "narrow"},
            "models": ["chat"],
            "zones": ["sovereign", "external"],
        },
        {"name": "tight", "keySecret": {"name": "gw-keys", "key": "tight"}, "tpm": 10},
        {
            "name": "hq",
            "keySecret": {"name": "gw-keys", "key": "hq-team"},
            "models": ["chat"],
            "maxClassification": "confidential",
        },
    ],
}

# one request body per route the front serves (its {rid} marks the request in what upstreams receive)
BODIES = {
    "/v1/chat/completions": {"messages": [{"role": "user", "content": "plan rid={rid}"}]},
    "/v1/completions": {"prompt": "plan rid={rid}"},
    "/v1/embeddings": {"input": "plan rid={rid}"},
    "/v1/messages": {"max_tokens": 16, "messages": [{"role": "user", "content": "plan rid={rid}"}]},
    "/v1/responses": {"input": "plan rid={rid}"},
}
CHAT = "/v1/chat/completions"


def plan() -> list[dict]:
    site = SiteSpec(name=SITE, jurisdiction="DE", region="eu-central")
    services = [InferenceServiceSpec.model_validate({"name": n, "model": "qwen"}) for n in ("chat-a", "chat-b")]
    return plan_router(site, RouterSpec.model_validate(ROUTER), services)


def ambient_env(attacker: FakeUpstream) -> dict[str, str]:
    """Provider defaults pointing at the attacker: anything LiteLLM sent to a provider's own default
    (pass-through routes, a provider-prefixed model) would be counted there."""
    root = attacker.base_url.removesuffix("/v1")
    ambient = {
        f"{p}_API_BASE": root
        for p in ("OPENAI", "ANTHROPIC", "GEMINI", "COHERE", "MISTRAL", "AZURE", "VLLM", "ASSEMBLYAI", "HOSTED_VLLM")
    }
    ambient.update({f"{p}_API_KEY": "sk-ambient-6" for p in ("OPENAI", "ANTHROPIC", "GEMINI", "COHERE", "MISTRAL")})
    ambient["LANGFUSE_HOST"] = root
    return ambient


@dataclass
class Stack:
    proxies: dict[str, Proxy]  # zone -> proxy
    ups: dict[str, FakeUpstream]  # local-a, local-b, ext, peer, rogue, attacker
    ca: Authority  # the CA the sovereign zone trusts for peers (peerCaSecret)
    hq_port: int  # where the real peer Router (peer_site.py) answers: this router's env names it before it starts

    def stop(self) -> None:
        for p in self.proxies.values():
            p.stop()
        for u in self.ups.values():
            u.stop()


def start_stack(tmp: Path) -> Stack:
    litellm_bin()  # fails with the install hint when the venv is missing
    manifests = plan()
    certs = tmp / "tls"
    trusted = Authority.create("peer-ca", certs)  # the bundle peerCaSecret mounts
    untrusted = Authority.create("other-ca", certs)
    hq_port = free_port()  # reserved now: the real peer Router starts only when a test asks for it
    ups = {
        "local-a": FakeUpstream("local-a").start(),
        "local-b": FakeUpstream("local-b").start(),
        "ext": FakeUpstream("external").start(),
        "peer": FakeUpstream("peer", tls=trusted.server_context("peer", certs)).start(),
        "rogue": FakeUpstream("rogue", tls=untrusted.server_context("rogue", certs)).start(),
        "attacker": FakeUpstream("attacker").start(),
    }
    urls = {
        "LLMKUBE_UPSTREAM_LOCAL_A": ups["local-a"].base_url,
        "LLMKUBE_UPSTREAM_LOCAL_B": ups["local-b"].base_url,
        "LLMKUBE_UPSTREAM_EXT": ups["ext"].base_url,
        "LLMKUBE_UPSTREAM_PEER": ups["peer"].base_url,  # the peer stack's federation URL, bound at deploy time
        "LLMKUBE_UPSTREAM_ROGUE": ups["rogue"].base_url,
        "LLMKUBE_UPSTREAM_HQ": f"https://127.0.0.1:{hq_port}/v1",  # the real peer Router, started on demand
        "LLMKUBE_UPSTREAM_HQ_BROKEN": f"https://127.0.0.1:{hq_port}/v1",
        "SSL_CERT_FILE": str(trusted.ca_file),  # where the pod mounts peerCaSecret
    }
    ambient = ambient_env(ups["attacker"])
    proxies = {}
    for zone, name in (("sovereign", "gw"), ("external", "gw-external")):
        cm = next(m for m in manifests if m["kind"] == "ConfigMap" and m["metadata"]["name"] == f"{name}-config")
        dep = next(m for m in manifests if m["kind"] == "Deployment" and m["metadata"]["name"] == name)
        config = write_configmap(cm, tmp / zone)
        env = {**ambient, **deployment_env(dep, urls, SECRETS)}
        proxies[zone] = Proxy(config, env, tmp / f"{zone}.log", deployment=dep)
    stack = Stack(proxies, ups, trusted, hq_port)
    errors: list[str] = []

    def start(p: Proxy) -> None:
        try:
            p.start()
        except AssertionError as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=start, args=(p,)) for p in proxies.values()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        stack.stop()
        raise AssertionError("\n".join(errors))
    return stack
