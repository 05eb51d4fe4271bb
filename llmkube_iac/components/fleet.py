"""`Fleet`: several sites from one program (one provider each), for platform repos that own many."""

from __future__ import annotations

import pulumi

from ..plan.objects import FLEET_TYPE
from ..spec import StackConfig, load_stack_config
from ..spec.base import duplicates
from ..spec.errors import SpecError
from .site import Site


class Fleet(pulumi.ComponentResource):
    def __init__(self, name: str, sites: list[StackConfig | dict], opts: pulumi.ResourceOptions | None = None):
        configs = []
        problems = []
        for i, cfg in enumerate(sites):  # validate every site before registering any
            try:
                configs.append(cfg if isinstance(cfg, StackConfig) else load_stack_config(cfg))
            except SpecError as err:
                problems += [(f"sites[{i}].{p}" if p else f"sites[{i}]", m) for p, m in err.problems]
        if problems:
            raise SpecError(problems)
        names = [c.site.name for c in configs]
        dupes = duplicates(names)
        if dupes:
            raise SpecError([("sites", f"duplicate site name(s): {', '.join(dupes)}")])
        super().__init__(FLEET_TYPE, name, {"sites": names}, opts)
        self.sites: dict[str, Site] = {}
        for c in configs:  # a loop, not a comprehension: one frame less for the SDK to walk per resource
            self.sites[c.site.name] = Site(c.site.name, c, pulumi.ResourceOptions(parent=self))
        self.register_outputs({"sites": names})
