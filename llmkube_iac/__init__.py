"""llmkube-iac: declarative, governed local LLM inference on heterogeneous Kubernetes fleets.

The pure layers (spec, plan, the policy rules, modelinfo, runtimes, hardware) import without Pulumi
(tests/test_layers.py checks it); the components below need it.
"""

from .spec import InferenceServiceSpec, ModelSpec, SiteSpec, StackConfig, load_stack_config
from .spec.router import RouterSpec

__version__ = "0.1.0"


def __getattr__(name: str):
    # Components import pulumi; load them on first use so pure callers (the agent, policy rules) stay light.
    if name in ("Model", "InferenceService", "Router", "Site", "Fleet"):
        from . import components

        return getattr(components, name)
    raise AttributeError(f"module 'llmkube_iac' has no attribute {name!r}")


__all__ = [
    "Fleet",
    "InferenceService",
    "InferenceServiceSpec",
    "Model",
    "ModelSpec",
    "Router",
    "RouterSpec",
    "Site",
    "SiteSpec",
    "StackConfig",
    "load_stack_config",
]
