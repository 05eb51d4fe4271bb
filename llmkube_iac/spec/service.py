"""InferenceServiceSpec: how one model is served (runtime, accelerator, scale, engine options)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Discriminator, Field, Tag, ValidationInfo, field_validator, model_validator

from .. import hardware, runtimes  # pure tables; neither imports spec at run time
from .base import SecretKeyRef, SpecModel, TableChoice, check_dns_label
from .fleet_ops import SloSpec
from .k8s import INT32_MAX, MAX_STABILIZATION_SECONDS, Dns1123Label, EnvName, Image, Quantity, quantity_value
from .model import MAX_GIB, ModelSpec
from .priority import Priority

# Names come from the tables, read when a value is validated (so an entry added to a table alone is
# accepted) and when the schema is generated; never from a list kept here.
Vendor = Annotated[str, TableChoice(hardware.vendor, lambda: list(hardware.VENDORS))]
RuntimeName = Annotated[str, TableChoice(runtimes.runtime, lambda: list(runtimes.RUNTIMES))]
Classification = Literal["public", "internal", "confidential", "restricted"]
CLASSIFICATION_ORDER: tuple[str, ...] = ("public", "internal", "confidential", "restricted")


def _model_tag(value: object) -> str:
    return "by-name" if isinstance(value, str) else "inline"


# A service names a model declared in the stack's `models`, or declares one inline.
ModelRef = Annotated[
    Annotated[str, Tag("by-name")] | Annotated[ModelSpec, Tag("inline")],
    Discriminator(_model_tag),
]


class AcceleratorSpec(SpecModel):
    """Which devices a replica gets. `product` pins a model of device; `minMemoryGiB` a floor."""

    vendor: Vendor = Field(
        hardware.DEFAULT_VENDOR,
        description="Accelerator vendor of each replica; metal services run on the site's metal hosts",
    )
    count: int = Field(1, ge=0, le=16, description="Devices per replica (ignored for cpu and metal)")
    product: str | None = Field(
        None,
        description='Device model, e.g. "NVIDIA H100 80GB", "AMD Instinct MI300X": selects a matching pool '
        "(or the vendor's product node label when the site declares no pool); gpu-fit reads it",
    )
    min_memory_gi_b: float | None = Field(
        None,
        alias="minMemoryGiB",
        gt=0,
        le=MAX_GIB,
        description="Minimum memory per device in GiB: only pools with at least this much match",
    )
    allow_vllm_on_cpu: bool = Field(
        False, alias="allowVllmOnCpu", description="Opt in to vLLM's CPU backend (much slower than llama.cpp there)"
    )


class AutoscalingSpec(SpecModel):
    """KEDA on the runtime's queue-depth metric (default) or an HPA on CPU; min 0 scales to zero."""

    min_replicas: int = Field(
        1,
        ge=0,
        le=INT32_MAX,
        description="Fewest replicas; 0 (queue signal) scales to zero, and only raising it starts the service again",
    )
    max_replicas: int = Field(
        ge=1, le=INT32_MAX, description="Most replicas (the capacity rule counts devices at this number)"
    )
    signal: Literal["queue", "cpu"] = Field(
        "queue",
        description="queue: a KEDA ScaledObject on the runtime's queue metric (needs KEDA and a runtime that "
        "exports one); cpu: a HorizontalPodAutoscaler on CPU utilisation",
    )
    target: float = Field(4, gt=0, le=INT32_MAX, description="Waiting requests per replica (queue) or CPU % (cpu)")
    cooldown_seconds: int = Field(
        300,
        ge=0,
        le=INT32_MAX,
        description="Seconds before scaling down (KEDA cooldownPeriod; with signal cpu the HPA's scale-down "
        "stabilisation, at most 3600)",
    )

    @model_validator(mode="after")
    def _range(self) -> AutoscalingSpec:
        if self.min_replicas > self.max_replicas:
            raise ValueError(f"minReplicas ({self.min_replicas}) exceeds maxReplicas ({self.max_replicas})")
        if self.signal == "cpu":
            if self.min_replicas == 0:
                raise ValueError(
                    "minReplicas 0 (scale to zero) needs signal: queue (KEDA); a CPU "
                    "HorizontalPodAutoscaler keeps at least 1 replica"
                )
            if self.cooldown_seconds > MAX_STABILIZATION_SECONDS:
                raise ValueError(
                    f"cooldownSeconds {self.cooldown_seconds} exceeds {MAX_STABILIZATION_SECONDS}, the "
                    "longest scale-down stabilisation an HPA accepts (signal cpu)"
                )
            if self.target < 1 or not float(self.target).is_integer():
                raise ValueError(
                    f"target {self.target:g} is a CPU utilisation in whole percent with signal cpu (e.g. 70)"
                )
        return self


class ShardingSpec(SpecModel):
    """Multi-device split: layer/row (llama.cpp split modes) or tensor (tensor parallel)."""

    mode: Literal["layer", "row", "tensor"] = Field(
        "layer", description="layer or row: llama.cpp's --split-mode; tensor: tensor parallelism (vLLM, TGI, SGLang)"
    )
    split_ratios: tuple[float, ...] | None = Field(
        None, description="One weight per device, e.g. [3, 1] (llama.cpp --tensor-split); unset: an even split"
    )

    @field_validator("split_ratios")
    @classmethod
    def _positive(cls, v):
        if v is not None and (not v or any(r < 0 for r in v) or sum(v) <= 0):
            raise ValueError("splitRatios must be non-negative weights with a positive sum, one per device")
        return v


class MoeOffloadSpec(SpecModel):
    """Keep MoE expert weights in host RAM: all of them, or those of the first N layers."""

    all_experts: bool = Field(False, description="Keep the experts of every layer in host RAM (llama.cpp --cpu-moe)")
    layers: int | None = Field(
        None, ge=1, description="Keep the experts of the first N layers in host RAM (llama.cpp --n-cpu-moe)"
    )

    @model_validator(mode="after")
    def _one(self) -> MoeOffloadSpec:
        if self.all_experts == (self.layers is not None):
            raise ValueError("set exactly one of allExperts: true or layers: N")
        return self


class EndpointSpec(SpecModel):
    """How clients reach the service's OpenAI-compatible API."""

    port: int = Field(
        8080,
        ge=1,
        le=65535,
        description="Service port of the OpenAI API (the container keeps its runtime's port); on metal hosts the "
        "port the runtime listens on",
    )
    service_type: Literal["ClusterIP", "NodePort", "LoadBalancer"] = Field(
        "ClusterIP", description="Kubernetes Service type"
    )
    api_key_secret: SecretKeyRef | None = Field(
        None,
        description="metal services whose runtime takes an API key (llama-server): the Secret key holding it; "
        "the host's agent reads it and starts the runtime with it, routers send it, nothing else "
        "may read it (it must not share a Secret with router keys); default: Secret "
        "<service>-api-key, key api-key. Create it out of band",
    )


class EngineOptions(SpecModel):
    """Typed common engine options; each runtime maps those it understands to its own flags."""

    gpu_memory_utilization: float | None = Field(
        None,
        gt=0,
        le=1,
        description="Share of device memory the engine may take (vLLM --gpu-memory-utilization, "
        "SGLang --mem-fraction-static); gpu-fit assumes 0.9 when unset. Weights, "
        "activations and the paged KV pool live in it",
    )
    max_num_batched_tokens: int | None = Field(
        None, gt=0, description="vLLM --max-num-batched-tokens: tokens per scheduler step"
    )
    batch_size: int | None = Field(None, gt=0, description="llama.cpp --batch-size: logical batch in tokens")
    ubatch_size: int | None = Field(None, gt=0, description="llama.cpp --ubatch-size: physical batch in tokens")
    threads: int | None = Field(None, gt=0, description="llama.cpp --threads: CPU threads; unset: llama.cpp's choice")
    jinja: bool = Field(True, description="llama.cpp chat templates from the GGUF (--jinja; chat mode only)")
    enable_prefix_caching: bool | None = Field(
        None, description="vLLM: turn prefix caching on or off; unset: vLLM's default"
    )
    served_model_name: str | None = Field(
        None, description="Model name the API answers to (and routers ask for); default: the model's name"
    )
    trust_remote_code: bool = Field(
        False, description="vLLM, TGI, SGLang: run Python code shipped in the model repository (trusted repos only)"
    )
    enforce_eager: bool = Field(False, description="vLLM --enforce-eager: no CUDA graphs (less memory, slower)")


class ResourcesSpec(SpecModel):
    """CPU and memory of each replica's server container (devices come from `accelerator`)."""

    cpu: Quantity | None = Field(None, description='CPU request, e.g. "4"; default: "8" with devices, "4" without')
    memory: Quantity | None = Field(
        None, description='Memory request and limit, e.g. "16Gi"; default: sized from the weights (16Gi if unknown)'
    )
    cpu_limit: Quantity | None = Field(None, description="CPU limit; default: twice the request")

    @model_validator(mode="after")
    def _limit(self) -> ResourcesSpec:
        limit, request = quantity_value(self.cpu_limit or ""), quantity_value(self.cpu or "")
        if limit is not None and request is not None and limit < request:
            raise ValueError(
                f"cpuLimit {self.cpu_limit} is below the cpu request {self.cpu}; Kubernetes refuses a "
                "limit below its request"
            )
        return self


class NetworkSpec(SpecModel):
    """Who may call the service: pods labelled `client.llmkube.dev/<service>: allowed`, routers, and these."""

    allowed_namespaces: tuple[Dns1123Label, ...] = Field(
        (), description="Namespaces whose pods may call the service directly"
    )
    metrics_namespaces: tuple[Dns1123Label, ...] = Field(
        ("monitoring",), description="Namespaces allowed to scrape the service's metrics"
    )


class McpSpec(SpecModel):
    """The service described as an MCP tool: recorded in the spec; nothing is rendered from it yet."""

    tool_name: str = Field(description="MCP tool name")
    description: str = Field(description="What the tool does, for the calling model")


class InferenceServiceSpec(SpecModel):
    """One served model. Defaults are production-safe: restricted class, probes, no token mount."""

    name: str = Field(description="Service name (DNS label): names its Deployment, Service and other objects")
    model: ModelRef = Field(description="The name of a model under `models`, or an inline model")
    runtime: RuntimeName = Field(
        runtimes.DEFAULT_RUNTIME,
        description="Inference runtime; it must run on accelerator.vendor (the error lists valid pairs)",
    )
    accelerator: AcceleratorSpec = Field(
        AcceleratorSpec(), validate_default=True, description="Devices each replica gets"
    )
    image: Image | None = Field(None, description="Override the runtime's pinned image (required for generic)")
    command: tuple[str, ...] | None = Field(
        None, description="generic runtime: container command ({model} and {port} are substituted)"
    )
    args: tuple[str, ...] | None = Field(
        None, description="generic runtime: container args ({model} and {port} are substituted)"
    )
    replicas: int = Field(1, ge=0, le=INT32_MAX, description="Replica count when autoscaling is unset")
    autoscaling: AutoscalingSpec | None = Field(
        None, description="Scale between minReplicas and maxReplicas instead of a fixed replica count"
    )
    resources: ResourcesSpec = Field(ResourcesSpec(), description="CPU and memory of the server container")
    context_size: int | None = Field(
        None,
        gt=0,
        le=INT32_MAX,
        description="Context length in tokens the runtime starts with; unset: the runtime's default "
        "(fit then assumes the model's contextWindow)",
    )
    parallel_slots: int = Field(
        1,
        ge=1,
        le=1024,
        description="Sequences served at once per replica. llama.cpp --parallel: the slots "
        "share contextSize cells, all allocated at start; vLLM --max-num-seqs: each "
        "sequence up to contextSize in a paged KV pool, only one needs to fit at start",
    )
    kv_cache_type_k: str | None = Field(
        None,
        alias="kvCacheTypeK",
        description="KV cache type of keys, e.g. q8_0 (llama.cpp) or fp8 (vLLM); must be one the runtime knows",
    )
    kv_cache_type_v: str | None = Field(
        None,
        alias="kvCacheTypeV",
        description="KV cache type of values (llama.cpp --cache-type-v; vLLM uses it only without kvCacheTypeK)",
    )
    flash_attention: bool | None = Field(
        None, description="Turn flash attention on or off (llama.cpp, Ollama); unset: the runtime's default"
    )
    sharding: ShardingSpec | None = Field(None, description="How a replica's model is split over its devices")
    moe_cpu_offload: MoeOffloadSpec | None = Field(
        None, alias="moeCpuOffload", description="Keep MoE expert weights in host RAM (runtimes that can: llamacpp)"
    )
    priority: Priority = Field(
        "normal",
        description="PriorityClass llmkube-<priority>; batch never preempts; metal hosts evict the lowest "
        "first under memory pressure",
    )
    mode: Literal["chat", "embedding", "rerank"] = Field(
        "chat", description="API the service offers: chat/completions, embeddings or rerank"
    )
    endpoint: EndpointSpec = Field(EndpointSpec(), description="Service port and type")
    engine: EngineOptions = Field(EngineOptions(), description="Common engine options, mapped to each runtime's flags")
    extra_args: tuple[str, ...] = Field(
        (), description="Arguments appended after the runtime's own (ignored for Ollama on metal hosts)"
    )
    env: dict[EnvName, str] = Field(
        default_factory=dict, description="Extra container environment; wins over the vendor's and runtime's"
    )
    classification: Classification = Field(
        "restricted",
        description="Most sensitive data class the service may receive: data-residency checks it "
        "against the site's jurisdiction, routers send it no higher class",
    )
    network: NetworkSpec = Field(NetworkSpec(), description="Who may call the service besides routers")
    mcp: McpSpec | None = Field(None, description="The service as an MCP tool (recorded only)")
    hosts: tuple[str, ...] = Field((), description="metal: host names serving it; empty = all metal hosts of the site")
    slo: SloSpec | None = Field(
        None,
        description="Service level objectives (Pyrra); unset: the defaults where Pyrra is installed and the "
        "runtime exports the metrics",
    )
    team: str | None = Field(
        None,
        description="The team (stack `teams`) whose quota the service's devices count in; where Kueue runs, its "
        "pods wait in the team's LocalQueue until Kueue admits them",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_dns_label(v, "service name")

    @field_validator("accelerator")
    @classmethod
    def _runtime_runs_here(cls, v: AcceleratorSpec, info: ValidationInfo) -> AcceleratorSpec:
        if "runtime" in info.data:
            runtimes.check_runtime_vendor(info.data["runtime"], v.vendor, v.allow_vllm_on_cpu)
        return v

    @field_validator("kv_cache_type_k", "kv_cache_type_v")
    @classmethod
    def _kv_type_known(cls, v: str | None, info: ValidationInfo) -> str | None:
        if "runtime" in info.data:
            runtimes.check_kv_cache_type(info.data["runtime"], v)
        return v

    @model_validator(mode="after")
    def _consistent(self) -> InferenceServiceSpec:
        rt = runtimes.runtime(self.runtime)
        if rt.needs_image and not self.image:
            raise ValueError(
                f"runtime {self.runtime} needs image (and usually args): nothing else describes the container"
            )
        if self.sharding and self.sharding.split_ratios and len(self.sharding.split_ratios) != self.device_count:
            raise ValueError(
                f"sharding.splitRatios has {len(self.sharding.split_ratios)} entries but accelerator.count is "
                f"{self.device_count}: give one ratio per device"
            )
        registry = runtimes.RUNTIMES
        if self.sharding and self.sharding.mode not in rt.sharding_modes:
            able = [n for n, r in registry.items() if self.sharding.mode in r.sharding_modes]
            raise ValueError(
                f"{self.runtime} shards by {' or '.join(rt.sharding_modes) or 'nothing'}, not "
                f"{self.sharding.mode}; set sharding.mode accordingly or use runtime {', '.join(able)}"
            )
        if self.moe_cpu_offload and not rt.moe_cpu_offload:
            able = [n for n, r in registry.items() if r.moe_cpu_offload]
            raise ValueError(
                f"moeCpuOffload keeps experts in host RAM with {', '.join(able)} only; runtime {self.runtime} cannot"
            )
        if self.mode not in rt.modes:
            able = [n for n, r in registry.items() if self.mode in r.modes]
            raise ValueError(
                f"runtime {self.runtime} serves mode {' or '.join(rt.modes)}, not {self.mode}; "
                f"set mode accordingly or use runtime {', '.join(able)}"
            )
        if rt.served_name and self.engine.served_model_name not in (None, rt.served_name):
            raise ValueError(
                f"runtime {self.runtime} answers only to model {rt.served_name!r}; remove engine.servedModelName"
            )
        return self

    @property
    def device_count(self) -> int:
        return self.accelerator.count if hardware.vendor(self.accelerator.vendor).resource_key else 0

    @property
    def max_replicas(self) -> int:
        return self.autoscaling.max_replicas if self.autoscaling else self.replicas

    @property
    def model_name(self) -> str:
        """The model's object name: the name it references, an inline model's own name, else `<service>-model`
        (its cache PVC, download Job and labels use it)."""
        if isinstance(self.model, str):
            return self.model
        return self.model.name or f"{self.name}-model"

    @property
    def served_model(self) -> str:
        """The model name the runtime answers to and routers ask for: the runtime's fixed name if it answers to
        one name only (mlx-lm), else engine.servedModelName, else model_name."""
        return runtimes.runtime(self.runtime).served_name or self.engine.served_model_name or self.model_name
