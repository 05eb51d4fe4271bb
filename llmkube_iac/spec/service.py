"""InferenceServiceSpec: how one model is served (runtime, accelerator, scale, engine options)."""
from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Discriminator, Field, Tag, ValidationInfo, field_validator, model_validator

from .base import SpecModel, check_dns_label
from .model import ModelSpec

Vendor = Literal["nvidia", "amd", "intel-gaudi", "intel-xpu", "cpu", "metal"]
RuntimeName = Literal["llamacpp", "vllm", "tgi", "sglang", "ollama", "generic"]
Classification = Literal["public", "internal", "confidential", "restricted"]
CLASSIFICATION_ORDER: tuple[str, ...] = ("public", "internal", "confidential", "restricted")
Priority = Literal["critical", "high", "normal", "low", "batch"]


def _model_tag(value: object) -> str:
    return "by-name" if isinstance(value, str) else "inline"


# A service names a model declared in the stack's `models`, or declares one inline.
ModelRef = Annotated[
    Union[Annotated[str, Tag("by-name")], Annotated[ModelSpec, Tag("inline")]],
    Discriminator(_model_tag),
]


class AcceleratorSpec(SpecModel):
    """Which devices a replica gets. `product` pins a model of device; `minMemoryGiB` a floor."""

    vendor: Vendor = "cpu"
    count: int = Field(1, ge=0, le=16, description="Devices per replica (ignored for cpu)")
    product: str | None = Field(None, description='e.g. "NVIDIA H100 80GB", "AMD Instinct MI300X"')
    min_memory_gi_b: float | None = Field(None, alias="minMemoryGiB", gt=0)
    allow_vllm_on_cpu: bool = Field(False, alias="allowVllmOnCpu", description="Opt in to vLLM's CPU backend")


class AutoscalingSpec(SpecModel):
    """KEDA on the runtime's queue-depth metric (default) or an HPA on CPU; min 0 scales to zero."""

    min_replicas: int = Field(1, ge=0)
    max_replicas: int = Field(ge=1)
    signal: Literal["queue", "cpu"] = "queue"
    target: float = Field(4, gt=0, description="Waiting requests per replica (queue) or CPU % (cpu)")
    cooldown_seconds: int = Field(300, ge=0)

    @model_validator(mode="after")
    def _range(self) -> "AutoscalingSpec":
        if self.min_replicas > self.max_replicas:
            raise ValueError(f"minReplicas ({self.min_replicas}) exceeds maxReplicas ({self.max_replicas})")
        return self


class ShardingSpec(SpecModel):
    """Multi-device split: layer/row (llama.cpp split modes) or tensor (tensor parallel)."""

    mode: Literal["layer", "row", "tensor"] = "layer"
    split_ratios: tuple[float, ...] | None = Field(None, description="One weight per device, e.g. [3, 1]")

    @field_validator("split_ratios")
    @classmethod
    def _positive(cls, v):
        if v is not None and (not v or any(r < 0 for r in v) or sum(v) <= 0):
            raise ValueError("splitRatios must be non-negative weights with a positive sum, one per device")
        return v


class MoeOffloadSpec(SpecModel):
    """Keep MoE expert weights in host RAM: all of them, or those of the first N layers."""

    all_experts: bool = False
    layers: int | None = Field(None, ge=1, description="Offload the experts of the first N layers")

    @model_validator(mode="after")
    def _one(self) -> "MoeOffloadSpec":
        if self.all_experts == (self.layers is not None):
            raise ValueError("set exactly one of allExperts: true or layers: N")
        return self


class EndpointSpec(SpecModel):
    port: int = Field(8080, ge=1, le=65535, description="Service port (OpenAI API)")
    service_type: Literal["ClusterIP", "NodePort", "LoadBalancer"] = "ClusterIP"


class EngineOptions(SpecModel):
    """Typed common engine options; each runtime maps those it understands to its own flags."""

    gpu_memory_utilization: float | None = Field(None, gt=0, le=1, description=(
        "vLLM/SGLang memory fraction (default 0.9): weights, activations and the paged KV pool live in it"))
    max_num_batched_tokens: int | None = Field(None, gt=0)
    batch_size: int | None = Field(None, gt=0, description="llama.cpp --batch-size")
    ubatch_size: int | None = Field(None, gt=0, description="llama.cpp --ubatch-size")
    threads: int | None = Field(None, gt=0)
    jinja: bool = Field(True, description="llama.cpp chat templates from the GGUF (--jinja)")
    enable_prefix_caching: bool | None = None
    served_model_name: str | None = None
    trust_remote_code: bool = False
    enforce_eager: bool = False


class ResourcesSpec(SpecModel):
    cpu: str | None = Field(None, description='CPU request, e.g. "4"; default per vendor')
    memory: str | None = Field(None, description='Memory request and limit, e.g. "16Gi"')
    cpu_limit: str | None = None


class NetworkSpec(SpecModel):
    """Who may call the service: pods labelled `client.llmkube.dev/<service>: allowed`, routers, and these."""

    allowed_namespaces: tuple[str, ...] = ()
    metrics_namespaces: tuple[str, ...] = ("monitoring",)


class McpSpec(SpecModel):
    tool_name: str
    description: str


class InferenceServiceSpec(SpecModel):
    """One served model. Defaults are production-safe: restricted class, probes, no token mount."""

    name: str
    model: ModelRef
    runtime: RuntimeName = "llamacpp"
    accelerator: AcceleratorSpec = Field(AcceleratorSpec(), validate_default=True)
    image: str | None = Field(None, description="Override the runtime's pinned image (required for generic)")
    command: tuple[str, ...] | None = Field(None, description="generic runtime: container command")
    args: tuple[str, ...] | None = Field(None, description="generic runtime: container args")
    replicas: int = Field(1, ge=0)
    autoscaling: AutoscalingSpec | None = None
    resources: ResourcesSpec = ResourcesSpec()
    context_size: int | None = Field(None, gt=0)
    parallel_slots: int = Field(1, ge=1, le=1024, description=(
        "Concurrent sequences: llama.cpp --parallel (contextSize cells shared by the slots, allocated at start); "
        "vLLM --max-num-seqs (sequences of up to contextSize each, sharing the paged KV pool)"))
    kv_cache_type_k: str | None = Field(None, alias="kvCacheTypeK")
    kv_cache_type_v: str | None = Field(None, alias="kvCacheTypeV")
    flash_attention: bool | None = None
    sharding: ShardingSpec | None = None
    moe_cpu_offload: MoeOffloadSpec | None = Field(None, alias="moeCpuOffload")
    priority: Priority = "normal"
    mode: Literal["chat", "embedding", "rerank"] = "chat"
    endpoint: EndpointSpec = EndpointSpec()
    engine: EngineOptions = EngineOptions()
    extra_args: tuple[str, ...] = ()
    env: dict[str, str] = Field(default_factory=dict)
    classification: Classification = "restricted"
    network: NetworkSpec = NetworkSpec()
    mcp: McpSpec | None = None
    hosts: tuple[str, ...] = Field((), description="metal: host names serving it; empty = all metal hosts of the site")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_dns_label(v, "service name")

    @field_validator("accelerator")
    @classmethod
    def _runtime_runs_here(cls, v: AcceleratorSpec, info: ValidationInfo) -> AcceleratorSpec:
        from ..runtimes import check_runtime_vendor  # pure; late import avoids a cycle

        if "runtime" in info.data:
            check_runtime_vendor(info.data["runtime"], v.vendor, v.allow_vllm_on_cpu)
        return v

    @field_validator("kv_cache_type_k", "kv_cache_type_v")
    @classmethod
    def _kv_type_known(cls, v: str | None, info: ValidationInfo) -> str | None:
        from ..runtimes import check_kv_cache_type

        if "runtime" in info.data:
            check_kv_cache_type(info.data["runtime"], v)
        return v

    @model_validator(mode="after")
    def _consistent(self) -> "InferenceServiceSpec":
        if self.runtime == "generic" and not self.image:
            raise ValueError("runtime generic needs image (and usually args): nothing else describes the container")
        if self.sharding and self.sharding.split_ratios and len(self.sharding.split_ratios) != self.device_count:
            raise ValueError(
                f"sharding.splitRatios has {len(self.sharding.split_ratios)} entries but accelerator.count is "
                f"{self.device_count}: give one ratio per device"
            )
        from ..runtimes import RUNTIMES

        rt = RUNTIMES[self.runtime]
        if self.sharding and self.sharding.mode not in rt.sharding_modes:
            able = [n for n, r in RUNTIMES.items() if self.sharding.mode in r.sharding_modes]
            raise ValueError(f"{self.runtime} shards by {' or '.join(rt.sharding_modes) or 'nothing'}, not "
                             f"{self.sharding.mode}; set sharding.mode accordingly or use runtime {', '.join(able)}")
        if self.moe_cpu_offload and not rt.moe_cpu_offload:
            able = [n for n, r in RUNTIMES.items() if r.moe_cpu_offload]
            raise ValueError(f"moeCpuOffload keeps experts in host RAM with {', '.join(able)} only; "
                             f"runtime {self.runtime} cannot")
        return self

    @property
    def device_count(self) -> int:
        from ..hardware import vendor  # pure; late import like the runtime registry above

        return self.accelerator.count if vendor(self.accelerator.vendor).resource_key else 0

    @property
    def max_replicas(self) -> int:
        return self.autoscaling.max_replicas if self.autoscaling else self.replicas

    @property
    def model_name(self) -> str | None:
        return self.model if isinstance(self.model, str) else self.model.name
