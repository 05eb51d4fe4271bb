"""Metal edge: two Mac Studios (M3 Ultra) serve a GGUF model natively; a Router fronts them.

Kubernetes cannot schedule Metal, so the chat service renders a selector-less Service, a desired-state
ConfigMap, an identity and a Lease per Mac; `llmkube-metal-agent` on each Mac runs llama-server and
marks it ready in the EndpointSlice the stack created for that Mac. The Router reaches both Macs through
that one Service. Keys live in the Secret `edge-gw-keys` (create it out of band): `master`, `app`; the
key llama-server demands lives in the Secret `chat-api-key` (key `api-key`), read only by the Macs'
agents and the router. The site has no certIssuer, so the router serves plain HTTP and the router-tls
rule says so; its images are tag-only, so image-pinning advises `llmkube-iac pin`.

On each Mac (see docs/metal-agent.md):
    llmkube-metal-agent print-launchd --host studio-1 --kubeconfig /etc/llmkube/studio-1.kubeconfig \
        > ~/Library/LaunchAgents/dev.llmkube.metal-agent.plist
    launchctl load -w ~/Library/LaunchAgents/dev.llmkube.metal-agent.plist
"""

import pulumi

from llmkube_iac import Site

qwen = {
    "name": "qwen3-30b-a3b",
    "source": "hf://Qwen/Qwen3-30B-A3B-GGUF/Qwen3-30B-A3B-Q4_K_M.gguf",
    "quantization": "Q4_K_M",
    "architecture": "MoE",
    "totalParametersB": 30.5,
    "activeParametersB": 3.3,
    "sizeGiB": 17.3,
}
site = Site(
    "metal-edge",
    {
        "site": {
            "name": "metal-edge",
            "jurisdiction": "DE",
            "region": "eu-central",
            # the router's PodMonitor and the agents' PrometheusRule need the Prometheus operator
            "clusterProvides": ["monitoring.coreos.com"],
            "metalHosts": [
                {
                    "name": "studio-1",
                    "chip": "M3 Ultra",
                    "unifiedMemoryGiB": 192,
                    "usableFraction": 0.75,
                    "address": "10.20.0.11",
                },
                {
                    "name": "studio-2",
                    "chip": "M3 Ultra",
                    "unifiedMemoryGiB": 192,
                    "usableFraction": 0.75,
                    "address": "10.20.0.12",
                },
            ],
        },
        "models": [qwen],
        "services": [
            {
                "name": "chat",
                "model": "qwen3-30b-a3b",
                "accelerator": {"vendor": "metal"},
                "runtime": "llamacpp",
                "contextSize": 32768,
                "parallelSlots": 4,
                "flashAttention": True,
                "priority": "high",
                "classification": "confidential",
            }
        ],
        "routers": [
            {
                "name": "edge-gw",
                "masterKeySecret": {"name": "edge-gw-keys", "key": "master"},
                "backends": [{"name": "macs", "service": "chat"}],
                "modelGroups": [{"name": "chat", "backends": ["macs"]}],
                "teams": [{"name": "app", "keySecret": {"name": "edge-gw-keys", "key": "app"}, "rpm": 600}],
            }
        ],
    },
)
pulumi.export("routerUrl", site.routers["edge-gw"].sovereign_url)
