"""`llmkube-iac render`, `check` and `schema`: the offline engine (and the config reference) from the command line."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _policy_config(path: str | None) -> dict | None:
    if not path:
        return None
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"--policy-config {path}: {exc}") from None


def _run(args, out_dir) -> int:
    from .engine import render_program

    result = render_program(args.program_dir, args.stack, out_dir, _policy_config(args.policy_config))
    from ..policy import format_table, has_mandatory_violations
    k8s = len(result.manifests)
    sites = sorted({r.site for r in result.resources if r.manifest is not None})
    print(f"{result.project.name}/{result.project.stack}: {len(result.resources)} resources, {k8s} Kubernetes objects"
          f" in {len(sites)} site(s) ({', '.join(sites)}), {len(result.charts)} provider-side chart(s)")
    for chart in result.charts:
        print(f"  provider-side (not expanded offline): {chart.name}: {chart.props.get('chart')} "
              f"{chart.props.get('version') or ''}".rstrip())
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
    return _run(args, Path(args.out))


def cmd_check(args) -> int:
    return _run(args, Path(args.out) if args.out else None)


def cmd_schema(args) -> int:
    from .config_docs import configuration_markdown, stack_schema

    if args.markdown:
        sys.stdout.write(configuration_markdown())
    else:
        print(json.dumps(stack_schema(), indent=2))
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    for name, func, help_ in (("render", cmd_render, "render a program offline to YAML + plan.json"),
                              ("check", cmd_check, "render in memory and evaluate policies (CI gate)")):
        p = sub.add_parser(name, help=help_)
        p.add_argument("program_dir", help="directory holding Pulumi.yaml")
        p.add_argument("--stack", help="stack name (Pulumi.<stack>.yaml); optional when there is one")
        p.add_argument("--out", default="out" if name == "render" else None,
                       help="output directory"
                       + (" (default: out)" if name == "render" else " (default: write nothing)"))
        p.add_argument("--policy-config", help="JSON file, same shape as --policy-pack-config")
        p.set_defaults(func=func)
    p = sub.add_parser("schema", help="print the JSON Schema of the stack configuration")
    p.add_argument("--markdown", action="store_true",
                   help="print the configuration reference (docs/configuration.md) generated from it instead")
    p.set_defaults(func=cmd_schema)
