"""Router example: two local llama.cpp services and one external provider behind one Router.

The sovereign zone (`gw`) only reaches the two in-site services; the external zone
(`gw-external`) may also fall back to the provider, for public data only. Keys live in the
Secret `gw-keys` (create it out of band): `master`, `app`, `analytics`, `openai`.
"""

import pulumi

from llmkube_iac import Site

small = {
    "name": "qwen3-4b",
    "source": "hf://Qwen/Qwen3-4B-GGUF/Qwen3-4B-Q4_K_M.gguf",
    "quantization": "Q4_K_M",
    "totalParametersB": 4,
}
site = Site(
    "router-demo",
    {
        # cert-manager issues the router's TLS certificate; the Prometheus operator scrapes the PodMonitors
        "site": {
            "name": "router-demo",
            "jurisdiction": "DE",
            "region": "eu-central",
            "certIssuer": "internal-ca",
            "clusterProvides": ["cert-manager.io", "monitoring.coreos.com"],
        },
        "models": [small],
        "services": [
            {"name": "chat-a", "model": "qwen3-4b", "contextSize": 8192, "classification": "restricted"},
            {"name": "chat-b", "model": "qwen3-4b", "contextSize": 8192, "classification": "restricted"},
        ],
        "routers": [
            {
                "name": "gw",
                "masterKeySecret": {"name": "gw-keys", "key": "master"},
                "backends": [
                    {"name": "local-a", "service": "chat-a"},
                    {"name": "local-b", "service": "chat-b"},
                    {
                        "name": "openai",
                        "provider": "openai",
                        "model": "gpt-4o-mini",
                        "region": "eu-west-1",
                        "jurisdiction": "IE",
                        "apiKeySecret": {"name": "gw-keys", "key": "openai"},
                        "maxClassification": "public",
                        "maxBudgetDollars": 200,
                    },
                ],
                "modelGroups": [
                    {"name": "chat", "backends": ["local-a", "local-b"], "fallbacks": ["chat-cloud"]},
                    {"name": "chat-cloud", "backends": ["openai"]},
                ],
                "strategy": "latency-based-routing",
                "teams": [
                    {"name": "app", "keySecret": {"name": "gw-keys", "key": "app"}, "rpm": 600, "tpm": 200000},
                    {
                        "name": "analytics",
                        "keySecret": {"name": "gw-keys", "key": "analytics"},
                        "rpm": 60,
                        "zones": ["sovereign", "external"],
                        "classification": "public",
                        "maxClassification": "internal",
                    },
                ],
                "providerBudgets": [{"provider": "openai", "dollars": 500, "period": "30d"}],
                "autoscaling": {"minReplicas": 2, "maxReplicas": 6},
            }
        ],
    },
)
gw = site.routers["gw"]
pulumi.export("sovereignUrl", gw.sovereign_url)
pulumi.export("externalUrl", gw.external_url)
