"""Write a render the way pulumi-kubernetes' renderYamlToDirectory lays it out, plus plan.json."""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .resources import RenderedResource
from .yaml_emit import Memo, dump

PLACEMENT, SITE = "llmkube:index:Placement", "llmkube:index:Site"  # component types plan.json summarises


def manifest_filename(manifest: dict) -> str:
    meta = manifest.get("metadata") or {}
    api = manifest["apiVersion"].replace("/", "_").lower()
    return f"{api}-{manifest['kind'].lower()}-{meta.get('namespace', '')}-{meta.get('name', '')}.yaml"


_FIRST = ("apiVersion", "kind", "metadata")


def canonical(manifest: dict) -> dict:
    """apiVersion, kind, metadata first (the wire gives no order), the rest as registered."""
    out = {k: manifest[k] for k in _FIRST if k in manifest}
    out.update((k, v) for k, v in manifest.items() if k not in _FIRST)
    return out


def write_output(result, out_dir: Path) -> None:
    """DIR/<site>/0-crd|1-manifest/<file>.yaml and DIR/plan.json; the site dirs are replaced."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for site in {r.site for r in result.resources if r.manifest is not None}:
        shutil.rmtree(out_dir / site, ignore_errors=True)
    files = []
    for r in result.resources:
        m = r.manifest
        if m is None:
            continue
        sub = "0-crd" if m["kind"] == "CustomResourceDefinition" else "1-manifest"
        files.append((out_dir / r.site / sub / manifest_filename(m), m))
    for parent in {path.parent for path, _ in files}:
        parent.mkdir(parents=True, exist_ok=True)
    memo = Memo()  # this render's keys and strings, as YAML
    # creating thousands of files is latency-bound: overlap it with the YAML generation
    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in pool.map(lambda item: item[0].write_text(dump(canonical(item[1]), memo=memo)), files):
            pass
    (out_dir / "plan.json").write_text(json.dumps(plan_document(result), indent=2, sort_keys=False))
    from .report import report_html

    (out_dir / "report.html").write_text(report_html(result))


def _entry(r: RenderedResource) -> dict:
    entry = {
        "urn": r.urn,
        "type": r.type,
        "name": r.name,
        "parent": r.parent,
        "provider": r.provider,
        "site": r.site,
        "custom": r.custom,
        "dependsOn": r.dependencies,
        "protect": r.protect,
    }
    if r.remote:
        entry["providerSide"] = True
        props = r.props.get("helmOptions") if isinstance(r.props.get("helmOptions"), dict) else r.props
        entry["chart"] = {k: props.get(k) for k in ("chart", "version", "repositoryOpts", "namespace")}
    elif r.manifest is not None:
        entry["file"] = f"{r.site}/1-manifest/{manifest_filename(r.manifest)}"
    if r.type == "llmkube:index:Model" and isinstance(r.props.get("revision"), dict):
        entry["revision"] = r.props["revision"]  # which commit an hf:// source was pinned to, or why not
    return entry


def plan_document(result) -> dict:
    results = [p.to_dict() if hasattr(p, "to_dict") else p for p in result.policy_results]
    return {
        "project": result.project.name,
        "stack": result.project.stack,
        "resources": [_entry(r) for r in result.resources],
        "providerSideComponents": [_entry(r) for r in result.charts],
        "policyResults": results,
        "placement": [p for r in result.resources if r.type == PLACEMENT for p in r.props.get("placements") or []],
        "costs": {
            f"{r.props['spec']['name']}/{svc}": cost
            for r in result.resources
            if r.type == SITE and isinstance(r.props.get("spec"), dict)
            for svc, cost in (r.props.get("costs") or {}).items()
        },
        "clusterModel": result.cluster.to_dict() if result.cluster is not None else None,
    }
