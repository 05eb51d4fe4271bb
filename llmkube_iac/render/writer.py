"""Write a render the way pulumi-kubernetes' renderYamlToDirectory lays it out, plus plan.json."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from .resources import RenderedResource

try:  # libyaml is much faster for thousands of manifests
    from yaml import CSafeDumper as Dumper
except ImportError:  # pragma: no cover
    from yaml import SafeDumper as Dumper


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
    for r in result.resources:
        m = r.manifest
        if m is None:
            continue
        sub = "0-crd" if m["kind"] == "CustomResourceDefinition" else "1-manifest"
        path = out_dir / r.site / sub / manifest_filename(m)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.dump(canonical(m), Dumper=Dumper, sort_keys=False, default_flow_style=False))
    (out_dir / "plan.json").write_text(json.dumps(plan_document(result), indent=2, sort_keys=False))


def _entry(r: RenderedResource) -> dict:
    entry = {"urn": r.urn, "type": r.type, "name": r.name, "parent": r.parent, "provider": r.provider,
             "site": r.site, "custom": r.custom}
    if r.remote:
        entry["providerSide"] = True
        entry["chart"] = {k: r.props.get(k) for k in ("chart", "version", "repositoryOpts", "namespace")}
    elif r.manifest is not None:
        entry["file"] = f"{r.site}/1-manifest/{manifest_filename(r.manifest)}"
    return entry


def plan_document(result) -> dict:
    results = [p.to_dict() if hasattr(p, "to_dict") else p for p in result.policy_results]
    return {
        "project": result.project.name,
        "stack": result.project.stack,
        "resources": [_entry(r) for r in result.resources],
        "providerSideComponents": [_entry(r) for r in result.charts],
        "policyResults": results,
    }
