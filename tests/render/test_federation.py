"""Federation in examples/fleet: the L4 edge's router reaches the datacenter's router through a stack
reference; the offline engine answers it from the dc stack's own config, and every way the reference
can be wrong (no such stack, no endpoint, no such model group, another project) is invalid input
naming the fix. Mutated, data residency and the air gap refuse cross-site routes they must refuse."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from llmkube_iac.cli import main
from llmkube_iac.policy import has_mandatory_violations
from llmkube_iac.render.engine import render_program
from llmkube_iac.render.project import load_project
from llmkube_iac.render.stack_refs import stack_outputs
from llmkube_iac.spec.errors import SpecError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fleet"


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    dest = tmp_path / "fleet"
    shutil.copytree(EXAMPLE, dest)
    return dest


def _edit(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def _edge_router(config: dict) -> dict:
    return config["config"]["llmkube:routers"][0]


def _peer(config: dict) -> dict:
    return next(b for b in _edge_router(config)["backends"] if "site" in b)


def _objects(result, kind: str, name: str) -> dict:
    return next(m for m in result.manifests if m["kind"] == kind and m["metadata"]["name"] == name)


def test_the_edge_router_reaches_the_datacenter_router_through_the_dc_stack_outputs():
    result = render_program(EXAMPLE, "edge-l4")
    assert not has_mandatory_violations(result.policy_results), result.policy_results
    dc = render_program(EXAMPLE, "dc", evaluate_policies=False)
    endpoint = _objects(dc, "Service", "dc-gw-fed")
    assert endpoint["spec"]["type"] == "LoadBalancer"
    assert endpoint["spec"]["loadBalancerSourceRanges"] == ["10.20.30.0/24"]
    assert endpoint["spec"]["ports"][0]["port"] == 443
    assert "gw.dc.fleet.internal" in _objects(dc, "Certificate", "dc-gw-tls")["spec"]["dnsNames"]
    admitted = _objects(dc, "NetworkPolicy", "dc-gw")["spec"]["ingress"]
    assert {"from": [{"ipBlock": {"cidr": "10.20.30.0/24"}}], "ports": [{"protocol": "TCP", "port": 4000}]} in admitted

    env = {
        e["name"]: e
        for e in _objects(result, "Deployment", "edge-gw")["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["LLMKUBE_UPSTREAM_DC"]["value"] == "https://gw.dc.fleet.internal/v1"
    assert env["LLMKUBE_PEER_KEY_DC"]["valueFrom"]["secretKeyRef"] == {"name": "edge-gw-keys", "key": "dc"}
    assert env["SSL_CERT_FILE"]["value"].endswith("/ca.crt")
    egress = _objects(result, "NetworkPolicy", "edge-gw")["spec"]["egress"]
    assert {"to": [{"ipBlock": {"cidr": "10.10.0.10/32"}}], "ports": [{"protocol": "TCP", "port": 443}]} in egress
    text = repr(result.manifests)
    assert "llmkube-peer:" not in text  # every reference was bound
    ref = next(r for r in result.resources if r.type == "pulumi:pulumi:StackReference")
    assert ref.props["name"] == "organization/llmkube-fleet/dc"
    assert ref.props["outputs"]["federation"]["dc-gw"]["jurisdiction"] == "FR"
    router = next(r for r in result.resources if r.type == "llmkube:index:Router")
    assert _peer({"config": {"llmkube:routers": [router.props["spec"]]}})["jurisdiction"] == "FR"  # from the fleet


def test_the_dc_stack_exports_what_peers_read():
    outputs = stack_outputs(load_project(EXAMPLE, "edge-l4"), "dc")
    assert outputs["federation"] == {
        "dc-gw": {
            "url": "https://gw.dc.fleet.internal/v1",
            "addresses": ["10.10.0.10/32"],
            "site": "dc",
            "jurisdiction": "FR",
            "models": ["chat"],  # chat-public is served by a provider only: not offered to peers
        }
    }
    assert stack_outputs(load_project(EXAMPLE, "edge-l4"), "organization/llmkube-fleet/edge-metal")["federation"] == {}


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("nope", "unknown stack: no Pulumi.nope.yaml"),
        ("acme/other-project/dc", "reads stacks of this project (llmkube-fleet) only"),
        ("a/b", "reads stacks of this project"),
    ],
)
def test_a_reference_to_a_stack_the_project_lacks_is_refused(name, message):
    with pytest.raises(SpecError) as err:
        stack_outputs(load_project(EXAMPLE, "edge-l4"), name)
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: _peer(c).update(model="chat-public"), "serves no model group chat-public in its sovereign zone"),
        (lambda c: _peer(c).update(router="dc-other"), "exports no federation endpoint for router dc-other"),
        (lambda c: _peer(c).update(stack="staging"), "stack reference organization/llmkube-fleet/staging: unknown"),
        (lambda c: _peer(c).update(site="atlantis"), "backends[1].site: unknown site 'atlantis'"),
        (lambda c: _peer(c).update(site="edge-l4"), "edge-l4 is this router's own site"),
        (lambda c: _peer(c).update(jurisdiction="US"), "US contradicts the fleet definition (dc is in FR)"),
    ],
)
def test_a_wrong_peer_is_invalid_input_naming_the_fix(fleet, capsys, change, message):
    _edit(fleet / "Pulumi.edge-l4.yaml", change)
    assert main(["check", str(fleet), "--stack", "edge-l4"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert message in err
    assert "Traceback" not in err and "never awaited" not in err


def test_the_peer_must_export_an_https_endpoint(fleet, capsys):
    _edit(fleet / "Pulumi.dc.yaml", lambda c: c["config"]["llmkube:routers"][0].pop("federation"))
    assert main(["check", str(fleet), "--stack", "edge-l4"]) == 2
    assert "exports no federation endpoint for router dc-gw (endpoints it exports: none)" in capsys.readouterr().err


def test_a_federation_endpoint_needs_tls(fleet, capsys):
    def no_issuer(fleet_def):
        next(s for s in fleet_def["sites"] if s["name"] == "dc").pop("certIssuer")

    _edit(fleet / "fleet.yaml", no_issuer)
    assert main(["check", str(fleet), "--stack", "dc"]) == 2
    assert "site dc has no certIssuer: a federation endpoint serves HTTPS only" in capsys.readouterr().err


def test_residency_judges_a_cross_site_route_like_a_provider_route(fleet):
    _edit(fleet / "Pulumi.edge-l4.yaml", lambda c: _peer(c).update(maxClassification="confidential"))
    assert not has_mandatory_violations(render_program(fleet, "edge-l4").policy_results)  # FR is in the EU

    result = render_program(
        fleet, "edge-l4", policy_config={"data-residency": {"allowedJurisdictions": {"confidential": ["DE"]}}}
    )
    found = [p for p in result.policy_results if p.rule == "data-residency"]
    assert found and "backend dc is in FR but confidential data may only be processed in DE" in found[0].message


def test_an_air_gapped_site_reaches_no_peer_it_did_not_declare(fleet):
    result = render_program(fleet, "edge-l4")
    deny = _objects(result, "NetworkPolicy", "default-deny-egress")
    assert "10.10.0.0/28" not in repr(deny)  # the peer range is the router's alone, not every pod's

    def forget_dc(fleet_def):
        edge = next(s for s in fleet_def["sites"] if s["name"] == "edge-l4")
        edge["network"]["peerCIDRs"] = []

    _edit(fleet / "fleet.yaml", forget_dc)
    found = [p for p in render_program(fleet, "edge-l4").policy_results if p.rule == "airgap-egress"]
    assert len(found) == 1 and "reaches 10.10.0.10/32, outside the site's declared reach" in found[0].message
    assert "site.network.peerCIDRs" in found[0].message


def test_peer_ranges_open_nothing_but_the_routers_https(fleet):
    """A service's policy reaching into peerCIDRs (or a router rule on another port) is still refused."""
    from llmkube_iac.policy.rules.airgap_egress import check_declared_blocks
    from llmkube_iac.policy.view import Res, StackView

    result = render_program(fleet, "edge-l4", evaluate_policies=False)
    resources = [Res(r.urn, r.type, r.name, r.props, r.parent) for r in result.resources]
    assert list(check_declared_blocks(StackView(resources))) == []
    for r in resources:
        if r.props.get("kind") == "NetworkPolicy" and r.props["metadata"]["name"] == "chat-confidential":
            r.props["spec"]["egress"].append({"to": [{"ipBlock": {"cidr": "10.10.0.10/32"}}], "ports": [{"port": 443}]})
        if r.props.get("kind") == "NetworkPolicy" and r.props["metadata"]["name"] == "edge-gw":
            r.props["spec"]["egress"].append({"to": [{"ipBlock": {"cidr": "10.10.0.10/32"}}], "ports": [{"port": 22}]})
    found = [v.message for v in check_declared_blocks(StackView(resources))]
    assert len(found) == 2 and any("chat-confidential" in m for m in found) and any("edge-gw" in m for m in found)


def test_the_report_shows_where_each_route_goes(tmp_path):
    render_program(EXAMPLE, "edge-l4", tmp_path / "out")
    html = (tmp_path / "out" / "report.html").read_text()
    routes = html[html.index("<h2>Routes") : html.index("</section>", html.index("<h2>Routes"))]
    assert "<td>dc</td><td>site dc / dc-gw</td><td>FR</td><td>internal</td>" in routes
    assert "<td>local</td><td>service chat-confidential</td><td>DE</td><td>restricted</td>" in routes


def _site_config(name: str, jurisdiction: str, routers: list) -> dict:
    from tests.conftest import minimal_stack

    return minimal_stack(site={"name": name, "jurisdiction": jurisdiction, "certIssuer": "fleet-ca"}, routers=routers)


KEYS = {"name": "gw-keys", "key": "master"}


def test_a_fleet_built_in_one_program_binds_sibling_peers_without_a_stack_reference():
    from llmkube_iac.components.fleet import Fleet
    from llmkube_iac.render.engine import run_callable

    dc_router = {
        "name": "dc-gw",
        "masterKeySecret": KEYS,
        "federation": {"host": "gw.dc.example", "addresses": ["10.10.0.10/32"], "clients": ["10.20.0.0/16"]},
        "backends": [{"name": "local", "service": "chat"}],
        "modelGroups": [{"name": "chat", "backends": ["local"]}],
    }
    peer = {
        "name": "dc",
        "site": "dc",
        "router": "dc-gw",
        "model": "chat",
        "keySecret": {"name": "gw-keys", "key": "dc"},
    }
    edge_router = {
        "name": "edge-gw",
        "masterKeySecret": KEYS,
        "backends": [{"name": "local", "service": "chat"}, peer],
        "modelGroups": [{"name": "chat", "backends": ["local", "dc"]}],
    }
    sites = [_site_config("dc", "FR", [dc_router]), _site_config("edge", "DE", [edge_router])]
    records = run_callable(lambda: Fleet("fleet", sites))
    assert not [r for r in records if r.type == "pulumi:pulumi:StackReference"]
    deployment = next(
        r.props for r in records if r.props.get("kind") == "Deployment" and r.props["metadata"]["name"] == "edge-gw"
    )
    env = {e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["LLMKUBE_UPSTREAM_DC"] == "https://gw.dc.example/v1"
    router = next(r for r in records if r.type == "llmkube:index:Router" and r.props["spec"]["name"] == "edge-gw")
    assert router.props["spec"]["backends"][1]["jurisdiction"] == "FR"  # from the sibling site

    peer["jurisdiction"] = "US"  # contradicts the sibling site: refused, never overwritten
    with pytest.raises(SpecError) as err:
        run_callable(
            lambda: Fleet("fleet", [_site_config("dc", "FR", [dc_router]), _site_config("edge", "DE", [edge_router])])
        )
    assert "sites[1].routers[0].backends[1].jurisdiction: US contradicts the fleet definition" in str(err.value)


def test_a_peer_stack_deploying_another_site_is_refused(fleet, capsys):
    # the edge-metal stack has no federation router: point the backend at dc's router through the dc stack, but
    # claim it serves site edge-metal (CH): residency would be judged on the wrong country
    _edit(fleet / "Pulumi.edge-l4.yaml", lambda c: _peer(c).update(site="edge-metal", stack="dc"))
    assert main(["check", str(fleet), "--stack", "edge-l4"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "deploys router dc-gw at site dc (FR), not at edge-metal (CH)" in err


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c["config"].update({"llmkube:bogus": 1}), "llmkube:bogus: unknown config key"),
        (lambda c: c["config"].update({"llmkube:site": {"name": "dc"}}), "remove llmkube:site"),
        (lambda c: c["config"]["llmkube:routers"][0]["backends"][0].update(service="nope"), "unknown service 'nope'"),
        (lambda c: c["config"].update({"llmkube:fleetSite": "*"}), "reference a site's own stack"),
    ],
)
def test_a_peer_stack_that_cannot_deploy_exports_nothing(fleet, capsys, change, message):
    _edit(fleet / "Pulumi.dc.yaml", change)
    assert main(["check", str(fleet), "--stack", "edge-l4"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "stack reference organization/llmkube-fleet/dc" in err and "stack dc cannot be deployed as configured" in err
    assert message in err


def test_invalid_input_reaches_the_engine_as_its_message_not_a_traceback(fleet, monkeypatch):
    """The language host prints a pulumi.RunError as its message, any other exception with a traceback; an error
    inside an output's apply reaches it wrapped by the SDK, so the message is also logged on the resource."""
    import pulumi

    from llmkube_iac.render.engine import run_program

    _edit(fleet / "Pulumi.edge-l4.yaml", lambda c: _peer(c).update(maxClassification="secret"))
    with pytest.raises(pulumi.RunError) as err:
        run_program(load_project(fleet, "edge-l4"))
    assert isinstance(err.value, SpecError) and "maxClassification" in str(err.value)

    logged = []
    monkeypatch.setattr(pulumi.log, "error", lambda message, resource=None, *a, **k: logged.append((message, resource)))
    _edit(fleet / "Pulumi.edge-l4.yaml", lambda c: _peer(c).update(maxClassification="internal", model="chat-public"))
    with pytest.raises(SpecError):
        render_program(fleet, "edge-l4")
    assert len(logged) == 1 and "serves no model group chat-public" in logged[0][0]
    assert isinstance(logged[0][1], pulumi.ComponentResource)  # attached to the Router
