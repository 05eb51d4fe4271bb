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

from ..plan.federation import EXPORT, federation_exports, fill_peer_jurisdictions
from ..spec import load_stack_config
from ..spec.errors import SpecError
from ..spec.router import RouterSpec
from .project import Project, load_project

CONFIG_KEYS = ("site", "models", "services", "routers", "teams")  # the program's (components/program.py)


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
        raw = _config(other)
        if "fleet" in raw:
            from ..components.fleet_stack import read_fleet

            fleet = read_fleet(str(raw["fleet"]), other.main.parent)
            site = fleet.site(str(raw.get("fleetSite") or stack))
            routers_raw, problems = fill_peer_jurisdictions(
                {s.name: s.jurisdiction for s in fleet.sites}, raw.get("routers") or []
            )
            if problems:
                raise SpecError(problems)
            routers = [RouterSpec.model_validate(r) for r in routers_raw]  # type: ignore[union-attr]
        else:
            config = load_stack_config({k: v for k, v in raw.items() if k in CONFIG_KEYS})
            site, routers = config.site, list(config.routers)
    except SpecError as err:
        raise SpecError([(f"{where}: {p}" if p else where, m) for p, m in err.problems]) from None
    except ValueError as exc:  # a router of the referenced stack that does not validate
        raise SpecError([(f"{where}: llmkube:routers", " ".join(str(exc).split())[:500])]) from None
    return {EXPORT: federation_exports(site, routers), "namespace": site.namespace}
