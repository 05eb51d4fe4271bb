"""Planning errors name the config field they come from, like spec errors do."""

from __future__ import annotations

from ..spec.errors import SpecError


class PlanError(SpecError):
    """A valid spec that cannot be planned at this site (no matching pool, unsupported source...)."""

    def __init__(self, path: str, message: str):
        super().__init__([(path, message)])

    def under(self, prefix: str) -> PlanError:
        """Re-anchor the field path under the caller's location (e.g. services[2])."""
        path, msg = self.problems[0]
        return PlanError(f"{prefix}.{path}" if path else prefix, msg)
