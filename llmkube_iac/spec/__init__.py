"""The declarative API: pydantic models shared by stack config, components, agent and policies."""

from .base import SpecModel
from .errors import SpecError
from .model import ModelCache, ModelSpec
from .service import (
    CLASSIFICATION_ORDER,
    AcceleratorSpec,
    AutoscalingSpec,
    EndpointSpec,
    EngineOptions,
    InferenceServiceSpec,
    MoeOffloadSpec,
    ShardingSpec,
)
from .site import SiteSpec
from .site_parts import AcceleratorPool, MetalHost, RegistryMirror
from .stack import StackConfig, load_stack_config

__all__ = [
    "CLASSIFICATION_ORDER",
    "AcceleratorPool",
    "AcceleratorSpec",
    "AutoscalingSpec",
    "EndpointSpec",
    "EngineOptions",
    "InferenceServiceSpec",
    "MetalHost",
    "ModelCache",
    "ModelSpec",
    "MoeOffloadSpec",
    "RegistryMirror",
    "ShardingSpec",
    "SiteSpec",
    "SpecError",
    "SpecModel",
    "StackConfig",
    "load_stack_config",
]
