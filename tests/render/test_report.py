"""report.html: one self-contained, valid page (no URL, no script) naming every service, with the
placement, fit and cost sections the fleet example needs."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from llmkube_iac.render.engine import render_program
from tests.conftest import ROOT

VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "embed", "source", "track", "wbr"}


class Checker(HTMLParser):
    """Tags balance, no script, and no attribute or text points outside the file."""

    def __init__(self):
        super().__init__()
        self.stack, self.problems, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.problems.append("script")
        for name, value in attrs:
            if name in ("href", "src", "xlink:href") or (value and re.search(r"(https?:)?//|url\(", value)):
                self.problems.append(f"{tag} {name}={value}")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.problems.append(f"unbalanced </{tag}>")

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture(scope="module")
def fleet_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("fleet-report")
    result = render_program(ROOT / "examples" / "fleet", "all", out)
    return result, (out / "report.html").read_text(), json.loads((out / "plan.json").read_text())


def check(html: str) -> str:
    parser = Checker()
    parser.feed(html)
    parser.close()
    assert not parser.problems and not parser.stack, (parser.problems, parser.stack)
    assert html.startswith("<!DOCTYPE html>")
    style = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    assert "url(" not in style and "@import" not in style
    return "".join(parser.text)


def test_the_fleet_report_is_self_contained_and_names_everything(fleet_report):
    result, html, plan = fleet_report
    text = check(html)
    services = {r.props["spec"]["name"] for r in result.resources if r.type == "llmkube:index:InferenceService"}
    assert services == {"chat-confidential", "chat-large", "chat-general", "assistant"}
    for name in services | {"dc", "edge-l4", "edge-metal", "FR", "DE", "CH"}:
        assert name in text
    assert html.count('aria-label="memory fit"') == len(services)
    assert html.count('aria-label="occupancy"') == 3  # dc's two pools, edge-l4's one
    for section in ("Sites", "Services: memory fit and cost", "Placement", "Economics", "SLOs and quotas", "Policy"):
        assert f"<h2>{section}</h2>" in html
    for p in plan["placement"]:
        assert p["site"] and f"${p['dollarsPerMillion']:.4f}" in text
        for _site, reason in p["rejected"].items():
            assert reason.split(":")[0] in text


def test_break_even_appears_where_a_provider_declares_its_price(tmp_path):
    render_program(ROOT / "examples" / "fleet", "dc", tmp_path)
    text = check((tmp_path / "report.html").read_text())
    assert "openai-mini" in text and "local is cheaper above" in text and "M tokens/month" in text


def test_every_example_report_is_valid_and_lists_unpriced_services_with_why(tmp_path):
    render_program(ROOT / "examples" / "multi-vendor", None, tmp_path)
    html = (tmp_path / "report.html").read_text()
    text = check(html)
    assert "qwen-cpu" in text and "not priced" in text  # a CPU service is listed, with why it has no price
