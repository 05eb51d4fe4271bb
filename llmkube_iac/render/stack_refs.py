"""What a stack reference reads, offline: the outputs another stack of this project exports.

The real engine answers `pulumi.StackReference("<org>/<project>/<stack>")` from the referenced
stack's last deployment. Offline there is no state, so the closest faithful answer is what that
stack *would* export if deployed with its current `Pulumi.<stack>.yaml`: computed with the same
functions the program exports them with (`federation_exports`, the site namespace), from the same
config rules (a fleet stack's site comes from the fleet definition). A stack this project does not
have, or another project's stack, is an error like the engine's "unknown stack".
"""

from __future__ import annotations

import json

from ..components.program import CONFIG_KEYS, PROGRAM_KEYS
from ..plan.federation import EXPORT, federation_exports
from ..plan.placement import place_fleet, refusals, site_share
from ..plan.stack import plan_stack
from ..spec import StackConfig, load_stack_config
from ..spec.errors import SpecError
from .project import Project, load_project


def _config(project: Project) -> dict:
    """The `llmkube:` keys of a stack as the program reads them (objects arrive as JSON text)."""
    raw = {}
    for key, text in project.config.items():
        namespace, _, name = key.partition(":")
        if namespace != "llmkube":
            continue
        try:
            raw[name] = json.loads(text) if name in CONFIG_KEYS else text
        except ValueError:
            raw[name] = text
    return raw


def _deployable_config(other: Project, stack: str) -> StackConfig:
    """The referenced stack's config after every check its own program makes before it exports anything
    (keys it knows, the fleet's placement and share, references, the plan): a stack that cannot deploy exports
    nothing a reference could read."""
    raw = _config(other)
    unknown = sorted(set(raw) - set(PROGRAM_KEYS))
    if unknown:
        raise SpecError([(f"llmkube:{k}", "unknown config key") for k in unknown])
    local = {k: v for k, v in raw.items() if k in CONFIG_KEYS}
    if "fleet" in raw:
        from ..components.fleet_stack import read_fleet

        fleet = read_fleet(str(raw["fleet"]), other.main.parent)
        target = str(raw.get("fleetSite") or stack)
        if target == "*":
            raise SpecError(
                [("llmkube:fleetSite", 'the stack applies every site ("*"): reference a site\'s own stack')]
            )
        placement = place_fleet(fleet)
        problems = refusals(fleet, placement)
        if problems:
            raise SpecError(problems)
        config = load_stack_config(site_share(fleet, placement, target, local))
    else:
        config = load_stack_config(local)
    plan_stack(config)  # plan errors (a federation endpoint without TLS, a backend naming no service ...)
    return config


def stack_outputs(project: Project, name: str) -> dict:
    """The outputs stack `name` (bare, or `<org>/<project>/<stack>`) of `project` exports: federation, namespace."""
    parts = name.split("/")
    stack = parts[-1]
    where = f"stack reference {name}"
    if len(parts) not in (1, 3) or (len(parts) == 3 and parts[1] != project.name):
        raise SpecError(
            [(where, f"the offline engine reads stacks of this project ({project.name}) only: unknown stack {name}")]
        )
    try:
        other = load_project(project.directory, stack)
    except SpecError as err:  # the engine: "unknown stack"
        raise SpecError([(where, f"unknown stack: {m}") for _p, m in err.problems]) from None
    try:
        config = _deployable_config(other, stack)
    except SpecError as err:
        cannot = f"stack {stack} cannot be deployed as configured"
        raise SpecError([(where, f"{cannot}: {p}: {m}" if p else f"{cannot}: {m}") for p, m in err.problems]) from None
    site, routers = config.site, list(config.routers)
    return {EXPORT: federation_exports(site, routers), "namespace": site.namespace}
