"""The component package's schema, inferred the way `pulumi package add` infers it."""

from __future__ import annotations

import importlib.util

from pulumi.provider.experimental.analyzer import Analyzer

from tests.conftest import ROOT


def test_schema_exposes_site_and_fleet():
    spec = importlib.util.spec_from_file_location("llmkube_components", ROOT / "components" / "__main__.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = Analyzer("llmkube").analyze([module.Site, module.Fleet])
    site = result["component_definitions"]["Site"]
    assert set(site.inputs) == {"site", "models", "services"}
    assert site.inputs["site"].optional is False and site.inputs["models"].optional is True
    assert set(site.outputs) == {"namespace", "serviceUrls"}
    assert set(result["component_definitions"]["Fleet"].inputs) == {"sites"}


def test_requirements_install_this_repository_by_path():
    """Pulumi builds the component host's virtualenv from components/requirements.txt, running pip in
    components/: the library must come from this repository, not from an index where it does not exist."""
    import tomllib

    lines = [
        ln.strip()
        for ln in (ROOT / "components" / "requirements.txt").read_text().splitlines()
        if ln.strip() and not ln.startswith("#")
    ]
    assert len(lines) == 1 and not lines[0].startswith("-e")
    project = (ROOT / "components" / lines[0]).resolve()
    assert project == ROOT.resolve()
    assert tomllib.loads((project / "pyproject.toml").read_text())["project"]["name"] == "llmkube-iac"
