"""One site, four vendors: each service expands to that vendor's resource key, node selector,
tolerations, image flavour and environment — from one declarative description."""

import pulumi

from llmkube_iac import Site

POOLS = [
    {
        "name": "mi300x",
        "vendor": "amd",
        "product": "AMD Instinct MI300X",
        "memoryGiB": 192,
        "devicesPerNode": 8,
        "nodeCount": 1,
    },
    {
        "name": "gaudi3",
        "vendor": "intel-gaudi",
        "product": "Intel Gaudi 3",
        "memoryGiB": 128,
        "devicesPerNode": 8,
        "nodeCount": 1,
    },
    {
        "name": "h100",
        "vendor": "nvidia",
        "product": "NVIDIA H100 80GB HBM3",
        "memoryGiB": 80,
        "devicesPerNode": 8,
        "nodeCount": 1,
    },
]

MODELS = [
    {
        "name": "gemma-4-26b-a4b",
        "source": "hf://google/gemma-4-26B-A4B-it-AWQ",
        "format": "safetensors",
        "quantization": "AWQ",
        "architecture": "MoE",
        "totalParametersB": 26,
        "activeParametersB": 4,
    },
    {
        "name": "qwen3-6-35b-a3b",
        "source": "hf://Qwen/Qwen3.6-35B-A3B-FP8",
        "format": "safetensors",
        "quantization": "FP8",
        "architecture": "MoEThinking",
        "totalParametersB": 35,
        "activeParametersB": 3,
    },
    {
        "name": "gemma-4-31b",
        "source": "hf://google/gemma-4-31B-it-INT4",
        "format": "safetensors",
        "quantization": "INT4",
        "architecture": "Dense",
        "totalParametersB": 31,
    },
    {
        "name": "qwen3-5-9b",
        "source": "hf://Qwen/Qwen3.5-9B-GGUF/Qwen3.5-9B-Q4_K_M.gguf",
        "format": "gguf",
        "quantization": "Q4_K_M",
        "architecture": "Dense",
        "totalParametersB": 9,
    },
]

SERVICES = [
    {
        "name": "gemma-moe-amd",
        "model": "gemma-4-26b-a4b",
        "runtime": "vllm",
        "accelerator": {"vendor": "amd", "count": 1, "product": "MI300X"},
        "contextSize": 32768,
    },
    {
        "name": "qwen-moe-gaudi",
        "model": "qwen3-6-35b-a3b",
        "runtime": "vllm",
        "accelerator": {"vendor": "intel-gaudi", "count": 2, "product": "Gaudi 3"},
        "contextSize": 32768,
    },
    {
        "name": "gemma-dense-nvidia",
        "model": "gemma-4-31b",
        "runtime": "vllm",
        "accelerator": {"vendor": "nvidia", "count": 1, "product": "H100"},
        "contextSize": 32768,
        "autoscaling": {"minReplicas": 1, "maxReplicas": 3, "signal": "queue", "target": 8},
    },
    {
        "name": "qwen-cpu",
        "model": "qwen3-5-9b",
        "runtime": "llamacpp",
        "accelerator": {"vendor": "cpu"},
        "contextSize": 8192,
        "parallelSlots": 4,
        "resources": {"cpu": "8", "memory": "12Gi"},
    },
]

site = Site(
    "lab",
    {
        # the lab cluster already runs the vendors' device plugins, KEDA (the NVIDIA service autoscales on
        # its queue) and the Prometheus operator (every service's PodMonitor)
        "site": {
            "name": "lab",
            "jurisdiction": "NL",
            "accelerators": POOLS,
            "clusterProvides": ["keda.sh", "monitoring.coreos.com"],
        },
        "models": MODELS,
        "services": SERVICES,
    },
)
pulumi.export("serviceUrls", site.service_urls)
