"""ModelSpec: what a model is and where its weights live (the input to download, fit and policy)."""
from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from ..modelinfo.sources import ModelSource, parse_source
from .base import SpecModel, check_dns_label

ModelFormat = Literal["gguf", "safetensors", "mlx", "pytorch", "onnx", "ollama"]
Architecture = Literal["Dense", "MoE", "DenseThinking", "MoEThinking"]
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class ModelCache(SpecModel):
    """Where a site keeps the downloaded weights (one PVC per model, keyed inside by cache key)."""

    size_gi_b: float | None = Field(None, alias="sizeGiB", gt=0, description="PVC size; default: model size + 20%")
    storage_class_name: str | None = None
    access_mode: Literal["ReadWriteOnce", "ReadWriteMany", "ReadWriteOncePod"] = "ReadWriteMany"


class ModelSpec(SpecModel):
    """A model's identity and published facts. Unknown facts stay None: nothing is invented."""

    name: str | None = Field(None, description="Reference name used by services (DNS label)")
    source: str = Field(description="hf://org/repo[@rev][/file], https://, s3://, pvc://, file://, oci://. An hf:// "
                        "branch or tag (none = main) is pinned to its commit at plan time through site.hfEndpoint; "
                        "a 40-hex @rev is already a commit")
    sha256: str | None = Field(None, description="Expected SHA-256 of the weights file (hex)")
    format: ModelFormat | None = Field(None, description="Default: inferred from the file extension")
    quantization: str | None = Field(None, description="e.g. Q4_K_M, AWQ, FP8, INT4, BF16")
    architecture: Architecture | None = None
    total_parameters_b: float | None = Field(None, alias="totalParametersB", gt=0)
    active_parameters_b: float | None = Field(None, alias="activeParametersB", gt=0)
    context_window: int | None = Field(None, gt=0)
    size_gi_b: float | None = Field(None, alias="sizeGiB", gt=0, description="Weights size when known")
    domains: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    license: str | None = None
    hf_token_secret: str | None = Field(None, description="Secret (key HF_TOKEN) for gated Hugging Face repos")
    cache: ModelCache = ModelCache()

    @field_validator("name")
    @classmethod
    def _name(cls, v: str | None) -> str | None:
        return None if v is None else check_dns_label(v, "model name")

    @field_validator("source")
    @classmethod
    def _source(cls, v: str) -> str:
        return parse_source(v).uri

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
    def _consistent(self) -> "ModelSpec":
        if self.total_parameters_b and self.active_parameters_b and self.active_parameters_b > self.total_parameters_b:
            raise ValueError("activeParametersB cannot exceed totalParametersB")
        if self.architecture in ("Dense", "DenseThinking") and self.active_parameters_b and self.total_parameters_b \
                and self.active_parameters_b != self.total_parameters_b:
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
