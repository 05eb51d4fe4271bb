"""ModelSpec: what a model is and where its weights live (the input to download, fit and policy)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from ..modelinfo.sources import ModelSource, parse_source
from .base import SpecModel, check_dns_label
from .k8s import INT32_MAX, Subdomain, check_qualified_name

MAX_GIB = 1 << 20  # GiB: 1 PiB; no device, host or cache is larger
MAX_PARAMETERS_B = 1e5  # 100 trillion parameters

ModelFormat = Literal["gguf", "safetensors", "mlx", "pytorch", "onnx", "ollama"]
Architecture = Literal["Dense", "MoE", "DenseThinking", "MoEThinking"]
_SHA256 = re.compile(r"^[0-9a-f]{64}\Z")


class ModelCache(SpecModel):
    """Where a site keeps the downloaded weights (one PVC per model, keyed inside by cache key)."""

    size_gi_b: float | None = Field(
        None,
        alias="sizeGiB",
        gt=0,
        le=MAX_GIB,
        description="Cache PVC size in GiB; default: weights size x 1.2 + 1 GiB (100 GiB when the size is unknown)",
    )
    storage_class_name: Subdomain | None = Field(
        None, description="StorageClass of the cache PVC; default: site.storageClassName"
    )
    access_mode: Literal["ReadWriteOnce", "ReadWriteMany", "ReadWriteOncePod"] = Field(
        "ReadWriteMany", description="Access mode of the cache PVC; ReadWriteMany lets replicas on many nodes mount it"
    )


class ModelSpec(SpecModel):
    """A model's identity and published facts. Unknown facts stay None: nothing is invented."""

    name: str | None = Field(
        None,
        description="Name services refer to (DNS label); required under `models`; an inline model without one "
        "is named <service>-model",
    )
    source: str = Field(
        description="Where the weights are: hf://org/repo[@rev][/file], https://host/path or s3://bucket/key are "
        "downloaded into the site cache; pvc://claim/path and oci://registry/repo:tag (or @sha256:...) "
        "are mounted; file:///path is for metal hosts only. An hf:// branch or tag (none: main) is "
        "pinned to its commit at plan time through site.hfEndpoint; a 40-hex @rev is a commit already"
    )
    sha256: str | None = Field(
        None, description="Expected SHA-256 of the weights file (64 hex digits): verified on download, keys the cache"
    )
    format: ModelFormat | None = Field(
        None, description="Weights format; default: gguf for a .gguf file, else safetensors"
    )
    quantization: str | None = Field(
        None,
        description="Quantization, e.g. Q4_K_M, AWQ, FP8, INT4, BF16: sizes the weights when no header is "
        "readable and picks the runtime's --quantization",
    )
    architecture: Architecture | None = Field(
        None, description="Published architecture class; a Dense model activates all its parameters"
    )
    total_parameters_b: float | None = Field(
        None,
        alias="totalParametersB",
        gt=0,
        le=MAX_PARAMETERS_B,
        description="Total parameters in billions (sizes the weights with quantization when nothing better is known)",
    )
    active_parameters_b: float | None = Field(
        None,
        alias="activeParametersB",
        gt=0,
        le=MAX_PARAMETERS_B,
        description="Parameters active per token in billions (MoE models)",
    )
    context_window: int | None = Field(
        None,
        gt=0,
        le=INT32_MAX,
        description="Longest context the model supports, in tokens; used when a service sets no contextSize",
    )
    size_gi_b: float | None = Field(
        None,
        alias="sizeGiB",
        gt=0,
        le=MAX_GIB,
        description="Weights size in GiB when known (sizes the cache PVC, the memory request and the fit estimate)",
    )
    domains: tuple[str, ...] = Field(
        (), description='Domains the model is for; each becomes the pod label domain.llmkube.dev/<domain>: "true"'
    )
    languages: tuple[str, ...] = Field((), description="Languages the model serves (descriptive only)")
    license: str | None = Field(None, description="License identifier, e.g. apache-2.0 (descriptive only)")
    hf_token_secret: Subdomain | None = Field(
        None,
        description="Secret in the site namespace (key HF_TOKEN) the download Job uses for gated Hugging Face repos",
    )
    cache: ModelCache = Field(ModelCache(), description="The site cache PVC of downloaded sources")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str | None) -> str | None:
        return None if v is None else check_dns_label(v, "model name")

    @field_validator("source")
    @classmethod
    def _source(cls, v: str) -> str:
        return parse_source(v).uri

    @field_validator("domains")
    @classmethod
    def _domains(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for i, domain in enumerate(v):
            if "/" in domain or check_qualified_name(domain):
                raise ValueError(
                    f"domains[{i}] {domain[:60]!r} becomes the label key domain.llmkube.dev/<domain>: "
                    "at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter "
                    "or digit"
                )
        return v

    @field_validator("sha256")
    @classmethod
    def _sha(cls, v: str | None) -> str | None:
        if v is None:
            return v
        v = v.lower().removeprefix("sha256:")
        if not _SHA256.match(v):
            raise ValueError("sha256 must be 64 hexadecimal characters (the file's SHA-256)")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> ModelSpec:
        if self.total_parameters_b and self.active_parameters_b and self.active_parameters_b > self.total_parameters_b:
            raise ValueError("activeParametersB cannot exceed totalParametersB")
        if (
            self.architecture in ("Dense", "DenseThinking")
            and self.active_parameters_b
            and self.total_parameters_b
            and self.active_parameters_b != self.total_parameters_b
        ):
            raise ValueError(f"a {self.architecture} model activates all its parameters; use MoE for sparse models")
        return self

    @property
    def parsed_source(self) -> ModelSource:
        return parse_source(self.source)

    @property
    def resolved_format(self) -> str:
        """Declared format, else from the extension (.gguf), else safetensors (HF layout)."""
        if self.format:
            return self.format
        if self.parsed_source.scheme == "oci":
            return "gguf" if "gguf" in self.source.lower() else "safetensors"
        return "gguf" if self.parsed_source.filename.lower().endswith(".gguf") else "safetensors"

    @property
    def is_moe(self) -> bool:
        return bool(self.architecture and self.architecture.startswith("MoE"))

    def display_name(self) -> str:
        return self.name or self.parsed_source.filename or self.source
