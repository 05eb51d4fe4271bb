"""The Pulumi shell: thin ComponentResources over the pure planners.

Everything here imports pulumi; nothing else in the package does (the pure layers are spec,
hardware, runtimes, modelinfo, plan and the policy rules). Each component validates its input
into a spec, calls a planner, registers the manifests as children and exposes outputs.
"""

from .fleet import Fleet
from .model import Model
from .router import Router
from .service import InferenceService
from .site import Site

__all__ = ["Fleet", "InferenceService", "Model", "Router", "Site"]
