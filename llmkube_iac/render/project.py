"""Read a Pulumi project and stack the way the CLI does: Pulumi.yaml (main, stackConfigDir,
config defaults) merged with Pulumi.<stack>.yaml; `secure:` values become opaque placeholders.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..spec.errors import SpecError

SECRET_PLACEHOLDER = "[secret]"


@dataclass
class Project:
    name: str
    directory: Path
    main: Path  # the program file to run
    stack: str
    config: dict[str, str] = field(default_factory=dict)  # "project:key" -> string value (objects as JSON)
    secret_keys: list[str] = field(default_factory=list)


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise SpecError([(str(path), f"not valid YAML: {exc}")]) from None
    if not isinstance(data, dict):
        raise SpecError([(str(path), "must be a YAML mapping")])
    return data


def _full_key(project: str, key: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def _as_config_string(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _project_root(directory: Path) -> Path:
    """The directory holding Pulumi.yaml; also accepts the `main:` directory of a project
    (so `render stacks` works for this repository's Pulumi.yaml with `main: stacks/`)."""
    if (directory / "Pulumi.yaml").is_file():
        return directory
    parent = directory.parent
    if (parent / "Pulumi.yaml").is_file():
        main = (_read_yaml(parent / "Pulumi.yaml").get("main") or ".").rstrip("/")
        if (parent / main).resolve() == directory:
            return parent
    raise SpecError([(str(directory), "no Pulumi.yaml here (nor a project whose main: is this directory): "
                                      "pass a Pulumi program directory")])


def load_project(directory: str | Path, stack: str | None = None) -> Project:
    """Resolve the program to run and its configuration; SpecError on anything missing."""
    directory = _project_root(Path(directory).resolve())
    manifest = directory / "Pulumi.yaml"
    proj = _read_yaml(manifest)
    name = proj.get("name")
    if not name:
        raise SpecError([("Pulumi.yaml.name", "required")])
    if proj.get("runtime") not in ("python", {"name": "python"}) and not (
        isinstance(proj.get("runtime"), dict) and proj["runtime"].get("name") == "python"
    ):
        raise SpecError([("Pulumi.yaml.runtime", "only Python programs can be rendered offline")])
    main = directory / proj.get("main", ".")
    main = main / "__main__.py" if main.is_dir() else main
    if not main.is_file():
        raise SpecError([("Pulumi.yaml.main", f"{main} does not exist")])
    config_dir = directory / proj.get("stackConfigDir", ".")
    if stack is None:
        stacks = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in config_dir.glob("Pulumi.*.yaml"))
        if len(stacks) != 1:
            raise SpecError([("--stack", f"choose a stack: {', '.join(stacks) or 'none found in ' + str(config_dir)}")])
        stack = stacks[0]

    config: dict[str, str] = {}
    secrets: list[str] = []
    for key, decl in (proj.get("config") or {}).items():  # project-level defaults
        value = decl.get("default", decl.get("value")) if isinstance(decl, dict) else decl
        if value is not None:
            config[_full_key(name, key)] = _as_config_string(value)
    stack_file = config_dir / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        raise SpecError([("--stack", f"no {stack_file.name} in {config_dir}")])
    for key, value in (_read_yaml(stack_file).get("config") or {}).items():
        full = _full_key(name, key)
        value, secret = _unsecure(value)
        if secret:  # like the CLI: a key holding any secure value (`--secret --path`) is a secret key
            secrets.append(full)
        config[full] = _as_config_string(value)
    return Project(name, directory, main, stack, config, secrets)


def _unsecure(value) -> tuple[object, bool]:
    """`{secure: ...}` anywhere in a value -> the placeholder, and whether there was one."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return SECRET_PLACEHOLDER, True
        items = {k: _unsecure(v) for k, v in value.items()}
        return {k: v for k, (v, _) in items.items()}, any(s for _, s in items.values())
    if isinstance(value, list):
        items = [_unsecure(v) for v in value]
        return [v for v, _ in items], any(s for _, s in items)
    return value, False
