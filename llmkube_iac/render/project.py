"""Read a Pulumi project and stack the way the CLI does: Pulumi.yaml (main, stackConfigDir,
config defaults) merged with Pulumi.<stack>.yaml; `secure:` values become opaque placeholders.

The files are parsed with the CLI's YAML rules (`pulumi_yaml`) and their shape is checked like
the CLI's project schema and config-key parser do, so a file `pulumi up` would refuse is refused
here too, with the file and field named, instead of failing later inside the program.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..spec.errors import SpecError, shorten
from .pulumi_yaml import load_file

SECRET_PLACEHOLDER = "[secret]"
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}\Z")  # Pulumi project and stack names
_DECLARATION_KEYS = frozenset({"type", "items", "description", "secret", "default", "value"})


@dataclass
class Project:
    name: str
    directory: Path
    main: Path  # the program file to run
    stack: str
    config: dict[str, str] = field(default_factory=dict)  # "project:key" -> string value (objects as JSON)
    secret_keys: list[str] = field(default_factory=list)
    stack_file: Path | None = None  # the Pulumi.<stack>.yaml it was read from (None: config given in code)


def _read_mapping(path: Path) -> dict:
    data = load_file(path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SpecError([(path.name, "must be a YAML mapping (key: value lines)")])
    return data


def _as_config_string(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _relative(directory: Path, value, label: str) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise SpecError([(label, f"must be a path (a string), not {shorten(json.dumps(value), 40)}")])
    return directory / value.lstrip("/")  # Go's filepath.Join keeps an absolute path inside the project


def _project_root(directory: Path) -> Path:
    """The directory holding Pulumi.yaml; also accepts the `main:` directory of a project
    (so `render stacks` works for this repository's Pulumi.yaml with `main: stacks/`)."""
    if (directory / "Pulumi.yaml").is_file():
        return directory
    parent = directory.parent
    if (parent / "Pulumi.yaml").is_file():
        main = _read_mapping(parent / "Pulumi.yaml").get("main") or "."
        if isinstance(main, str) and (parent / main.rstrip("/")).resolve() == directory:
            return parent
    raise SpecError(
        [
            (
                str(directory),
                "no Pulumi.yaml here (nor a project whose main: is this directory): pass a Pulumi program directory",
            )
        ]
    )


def _check_project(proj: dict) -> str:
    """Pulumi.yaml's name and runtime, checked as the CLI's project schema does."""
    name = proj.get("name")
    if not isinstance(name, str) or not name:
        raise SpecError([("Pulumi.yaml name", "required: a non-empty string")])
    if not _NAME.match(name):
        raise SpecError(
            [
                (
                    "Pulumi.yaml name",
                    f"{shorten(name)!r}: project names are at most 100 characters, letters, digits, '-', '_' and '.'",
                )
            ]
        )
    runtime = proj.get("runtime")
    runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if runtime_name != "python":
        raise SpecError([("Pulumi.yaml runtime", "only Python programs can be rendered offline (runtime: python)")])
    for key in ("main", "stackConfigDir"):
        if proj.get(key) is not None and not isinstance(proj[key], str):
            raise SpecError([(f"Pulumi.yaml {key}", "must be a path (a string)")])
    config = proj.get("config")
    if config is not None and not isinstance(config, (dict, str)):
        raise SpecError([("Pulumi.yaml config", "must be a mapping of config keys (or, deprecated, a directory)")])
    if isinstance(config, str) and proj.get("stackConfigDir") is not None:
        raise SpecError(
            [("Pulumi.yaml config", "use stackConfigDir alone: config: <directory> is its deprecated form")]
        )
    return name


def _project_defaults(name: str, config) -> dict[str, str]:
    """Project-level config: `default` of keys in the project's namespace, `value` of others."""
    out: dict[str, str] = {}
    if not isinstance(config, dict):
        return out
    for key, decl in config.items():
        label = f"Pulumi.yaml config.{shorten(key)}"
        own = ":" not in key or key.split(":", 1)[0] == name
        if isinstance(decl, dict):
            unknown = sorted(set(decl) - _DECLARATION_KEYS)
            if unknown:
                raise SpecError(
                    [
                        (
                            label,
                            f"unknown attribute(s) {', '.join(map(shorten, unknown))}; "
                            f"a declaration has {', '.join(sorted(_DECLARATION_KEYS))}",
                        )
                    ]
                )
            if "default" in decl and "value" in decl:
                raise SpecError([(label, "has both 'default' and 'value'; keep one")])
            if not own and ("default" in decl or "type" in decl):
                raise SpecError([(label, "keys of another namespace take a 'value', not a type or 'default'")])
            value = decl.get("default") if own else decl.get("value")
        else:
            value = decl
        if value is not None:
            out[key if ":" in key else f"{name}:{key}"] = _as_config_string(value)
    return out


def _stack_key(key: str, label: str) -> str:
    """Pulumi's config.ParseKey: `<namespace>:<name>`, or the old `<namespace>:config:<name>`."""
    parts = key.split(":")
    if len(parts) == 2 and all(parts):
        return key
    if len(parts) == 3 and parts[1] == "config" and parts[0] and parts[2]:
        return f"{parts[0]}:{parts[2]}"
    raise SpecError([(label, f"{shorten(key)!r} is not a config key: keys are <namespace>:<name>, e.g. llmkube:site")])


def _secure(value) -> bool:
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get("secure"), str)


def _secrets_in(value, path: str) -> list[str]:
    """Paths of `secure:` values nested inside an object value."""
    if _secure(value):
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _secrets_in(v, f"{path}.{shorten(k)}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _secrets_in(v, f"{path}[{i}]")]
    return []


def _mask(value):
    if _secure(value):
        return SECRET_PLACEHOLDER
    if isinstance(value, dict):
        return {k: _mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    return value


def _stack_config(stack_file: Path) -> tuple[dict[str, str], list[str]]:
    data = _read_mapping(stack_file)
    config = data.get("config")
    if config is None:
        return {}, []
    if not isinstance(config, dict):
        raise SpecError([(f"{stack_file.name} config", "must be a mapping of <namespace>:<name> keys to values")])
    out: dict[str, str] = {}
    secrets: list[str] = []
    for key, value in config.items():
        full = _stack_key(key, f"{stack_file.name} config")
        if _secrets_in(value, full):  # like the CLI: a key holding any secure value (`--secret --path`) is secret
            secrets.append(full)
        out[full] = _as_config_string(_mask(value))
    return out, secrets


def load_project(directory: str | Path, stack: str | None = None) -> Project:
    """Resolve the program to run and its configuration; SpecError on anything missing."""
    directory = _project_root(Path(directory).resolve())
    proj = _read_mapping(directory / "Pulumi.yaml")
    name = _check_project(proj)
    main = _relative(directory, proj.get("main") or ".", "Pulumi.yaml main")
    main = main / "__main__.py" if main.is_dir() else main
    if not main.is_file():
        raise SpecError([("Pulumi.yaml main", f"{main} does not exist")])
    legacy_dir = proj.get("config") if isinstance(proj.get("config"), str) else None
    config_dir = _relative(directory, proj.get("stackConfigDir") or legacy_dir or ".", "Pulumi.yaml stackConfigDir")
    if stack is None:
        stacks = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in config_dir.glob("Pulumi.*.yaml"))
        if len(stacks) != 1:
            raise SpecError([("--stack", f"choose a stack: {', '.join(stacks) or 'none found in ' + str(config_dir)}")])
        stack = stacks[0]
    if not _NAME.match(stack):
        raise SpecError([("--stack", f"{shorten(stack)!r}: stack names are letters, digits, '-', '_' and '.'")])
    stack_file = config_dir / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        raise SpecError([("--stack", f"no {stack_file.name} in {config_dir}")])
    config = _project_defaults(name, proj.get("config"))
    stack_config, secrets = _stack_config(stack_file)
    config.update(stack_config)
    return Project(name, directory, main, stack, config, secrets, stack_file)
