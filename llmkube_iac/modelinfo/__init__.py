"""What we can know about a model before serving it: where it lives, what it is, whether it fits.

Light imports only (stdlib + requests + pydantic): the metal-agent uses fit_service.
"""

from .fit import FitReport, fit_service
from .info import ModelInfo
from .inspect import facts_at_plan_time, inspect_source

__all__ = ["FitReport", "ModelInfo", "facts_at_plan_time", "fit_service", "inspect_source"]
