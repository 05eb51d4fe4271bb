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
