"""Quickstart: serve a small GGUF chat model on CPU nodes with llama.cpp."""

import pulumi

from llmkube_iac import Site

site = Site(
    "quickstart",
    {
        # the service's PodMonitor needs the Prometheus operator: declare it when the cluster has one
        "site": {"name": "quickstart", "jurisdiction": "DE", "clusterProvides": ["monitoring.coreos.com"]},
        "services": [
            {
                "name": "chat",
                "model": {
                    "name": "qwen3-5-4b",
                    "source": "hf://Qwen/Qwen3.5-4B-GGUF/Qwen3.5-4B-Q4_K_M.gguf",
                    "quantization": "Q4_K_M",
                    "totalParametersB": 4,
                },
                "contextSize": 8192,
                "classification": "internal",
            }
        ],
    },
)
pulumi.export("chatUrl", site.service_urls["chat"])
