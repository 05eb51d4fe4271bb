"""`llmkube-iac render`, `check` and `schema`: the offline engine (and the config reference) from the command line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

MAX_POLICY_CONFIG = 1 << 20  # bytes; a pack config is a few hundred


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON (the Pulumi CLI refuses it)")


def _policy_config(path: str | None) -> dict | None:
    """The --policy-config JSON, read and checked against every rule's schema; SpecError otherwise."""
    from ..policy.config_check import check_policy_config
    from ..spec.errors import SpecError

    if not path:
        return None
    label = f"--policy-config {path}"
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_POLICY_CONFIG + 1)
        if len(data) > MAX_POLICY_CONFIG:
            raise ValueError(f"larger than {MAX_POLICY_CONFIG >> 10} KiB")
        config = json.loads(data.decode("utf-8-sig"), parse_constant=_no_constant) if data.strip() else {}
    except OSError as exc:
        raise SpecError([(label, f"cannot read it: {exc.strerror or exc}")]) from None
    except (ValueError, RecursionError) as exc:  # JSON syntax, encoding, nesting
        raise SpecError([(label, f"not valid JSON: {str(exc) or type(exc).__name__}")]) from None
    problems = check_policy_config(config)
    if problems:
        raise SpecError([(f"{label} {path_}".rstrip(), msg) for path_, msg in problems])
    return config


def _out_dir(value: str | None) -> Path | None:
    """--out must be (or become) a directory: refuse a file before anything is rendered."""
    from ..spec.errors import SpecError

    if value is None:
        return None
    out = Path(value)
    if out.exists() and not out.is_dir():
        raise SpecError([("--out", f"{value} is a file; give a directory (the site folders and plan.json go there)")])
    return out


def _run(args, out_dir) -> int:
    from .engine import render_program

    policy_config = _policy_config(args.policy_config)  # refused before the (slower) render
    result = render_program(args.program_dir, args.stack, out_dir, policy_config)
    from ..policy import format_table, has_mandatory_violations

    k8s = len(result.manifests)
    sites = sorted({r.site for r in result.resources if r.manifest is not None})
    print(
        f"{result.project.name}/{result.project.stack}: {len(result.resources)} resources, {k8s} Kubernetes objects"
        f" in {len(sites)} site(s) ({', '.join(sites)}), {len(result.charts)} provider-side chart(s)"
    )
    for chart in result.charts:
        print(
            f"  provider-side (not expanded offline): {chart.name}: {chart.props.get('chart')} "
            f"{chart.props.get('version') or ''}".rstrip()
        )
    if result.policy_results:
        print(format_table(result.policy_results))
    findings = result.cluster_findings
    for f in findings:
        print(f"cluster  {f.check:<10}  {f.message}\n         fix: {f.fix}")
    if out_dir is not None:
        print(f"wrote {out_dir}/ (plan.json and one YAML file per object)")
    refused = False
    if has_mandatory_violations(result.policy_results):
        print("mandatory policy violations: the plan is refused", file=sys.stderr)
        refused = True
    if findings:
        print(f"cluster model: {len(findings)} problem(s) a cluster would refuse: the plan is refused", file=sys.stderr)
        refused = True
    return 1 if refused else 0


def cmd_render(args) -> int:
    return _run(args, _out_dir(args.out))


def cmd_check(args) -> int:
    return _run(args, _out_dir(args.out))


def cmd_schema(args) -> int:
    from .config_docs import configuration_markdown, stack_schema

    if args.markdown:
        sys.stdout.write(configuration_markdown())
    else:
        print(json.dumps(stack_schema(), indent=2))
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    for name, func, help_ in (
        ("render", cmd_render, "render a program offline to YAML + plan.json"),
        ("check", cmd_check, "render in memory and evaluate policies (CI gate)"),
    ):
        p = sub.add_parser(name, help=help_)
        p.add_argument("program_dir", help="directory holding Pulumi.yaml")
        p.add_argument("--stack", help="stack name (Pulumi.<stack>.yaml); optional when there is one")
        p.add_argument(
            "--out",
            default="out" if name == "render" else None,
            help="output directory" + (" (default: out)" if name == "render" else " (default: write nothing)"),
        )
        p.add_argument("--policy-config", help="JSON file, same shape as --policy-pack-config")
        p.set_defaults(func=func)
    p = sub.add_parser("schema", help="print the JSON Schema of the stack configuration")
    p.add_argument(
        "--markdown",
        action="store_true",
        help="print the configuration reference (docs/configuration.md) generated from it instead",
    )
    p.set_defaults(func=cmd_schema)
