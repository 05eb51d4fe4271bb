"""Federation planning: which zone holds a peer, the endpoint a router exposes, what a stack exports, and
the references a plan carries until the peer stack's outputs bind them (hostile exports refused)."""

from __future__ import annotations

import json

import pytest

from llmkube_iac.plan.federation import (
    bind_peer_refs,
    federation_exports,
    fill_peer_jurisdictions,
    has_refs,
    parse_ref,
    peer_entry,
    ref,
)
from llmkube_iac.plan.router import plan_router
from llmkube_iac.plan.router_config import plan_zone_config
from llmkube_iac.spec import InferenceServiceSpec, SiteSpec
from llmkube_iac.spec.errors import SpecError
from llmkube_iac.spec.router import RouterSpec
from llmkube_iac.spec.stack import load_stack_config

SITE = {"name": "edge", "jurisdiction": "DE", "certIssuer": "fleet-ca", "accelerators": []}
SERVICE = {
    "name": "chat",
    "model": {"name": "m", "source": "https://models.example/m.gguf", "sizeGiB": 5, "quantization": "Q4_K_M"},
    "runtime": "llamacpp",
    "accelerator": {"vendor": "cpu"},
}
PEER = {
    "name": "dc",
    "site": "dc",
    "router": "dc-gw",
    "model": "chat",
    "keySecret": {"name": "gw-keys", "key": "dc"},
    "maxClassification": "internal",
    "jurisdiction": "FR",
}
EXTERNAL = {
    "name": "ext",
    "provider": "openai",
    "model": "gpt-4o-mini",
    "region": "eu-west-1",
    "jurisdiction": "IE",
    "apiKeySecret": {"name": "gw-keys", "key": "openai"},
}


def router(**extra) -> RouterSpec:
    return RouterSpec.model_validate(
        {
            "name": "gw",
            "masterKeySecret": {"name": "gw-keys", "key": "master"},
            "backends": [{"name": "local", "service": "chat"}, PEER, EXTERNAL],
            "modelGroups": [
                {"name": "chat", "backends": ["local"], "fallbacks": ["chat-dc"]},
                {"name": "chat-dc", "backends": ["dc"]},
                {"name": "chat-ext", "backends": ["ext"]},
            ],
            **extra,
        }
    )


def test_peers_live_in_the_sovereign_zone_only_with_their_own_key():
    site, svc = SiteSpec.model_validate(SITE), InferenceServiceSpec.model_validate(SERVICE)
    r = router()
    sovereign = plan_zone_config(site, r, {"chat": svc}, "sovereign")
    external = plan_zone_config(site, r, {"chat": svc}, "external")
    rules = json.loads(sovereign.files["llmkube_router.json"])
    peer = next(d for d in rules["deployments"] if d["backend"] == "dc")
    assert peer["locality"] == "peer" and peer["maxClass"] == "internal" and peer["jurisdiction"] == "FR"
    assert "apiBase" not in peer  # bound at deploy time; the guard reads the env
    assert sovereign.plain_env["LLMKUBE_UPSTREAM_DC"] == ref(r.peer_backends[0], "url")
    assert sovereign.secret_env["LLMKUBE_PEER_KEY_DC"] == ("gw-keys", "dc")
    assert "LLMKUBE_PROVIDER_KEY_EXT" not in sovereign.secret_env
    ext_rules = json.loads(external.files["llmkube_router.json"])
    assert {d["backend"] for d in ext_rules["deployments"]} == {"local", "ext"}
    assert "LLMKUBE_PEER_KEY_DC" not in external.secret_env


def test_a_federation_endpoint_is_tls_only_and_open_to_its_clients_only():
    fed = {"host": "gw.edge.example", "addresses": ["10.0.0.5/32"], "clients": ["10.9.0.0/16"]}
    svc = InferenceServiceSpec.model_validate(SERVICE)
    objects = plan_router(SiteSpec.model_validate(SITE), router(federation=fed), [svc])
    lb = next(m for m in objects if m["kind"] == "Service" and m["spec"].get("type") == "LoadBalancer")
    assert lb["metadata"]["name"] == "gw-fed"
    assert lb["spec"]["selector"] == {"app.kubernetes.io/name": "gw", "app.kubernetes.io/instance": "gw"}
    assert lb["spec"]["loadBalancerSourceRanges"] == ["10.9.0.0/16"] and lb["spec"]["externalTrafficPolicy"] == "Local"
    cert = next(m for m in objects if m["kind"] == "Certificate")
    assert "gw.edge.example" in cert["spec"]["dnsNames"]
    with pytest.raises(Exception, match="has no certIssuer: a federation endpoint serves HTTPS only"):
        plan_router(SiteSpec.model_validate({**SITE, "certIssuer": None}), router(federation=fed), [svc])


@pytest.mark.parametrize(
    ("federation", "message"),
    [
        ({"host": "10.0.0.5", "addresses": ["10.0.0.5/32"], "clients": ["10.9.0.0/16"]}, "is an address"),
        ({"host": "gw.example", "addresses": [], "clients": ["10.9.0.0/16"]}, "at least 1"),
        ({"host": "gw.example", "addresses": ["10.0.0.5"], "clients": ["10.9.0.0/16"]}, "prefix length"),
        ({"host": "gw.example", "addresses": ["10.0.0.5/32"], "clients": ["nowhere"]}, "is not a CIDR"),
        ({"host": "gw example", "addresses": ["10.0.0.5/32"], "clients": ["10.9.0.0/16"]}, "neither an IP"),
        ({"host": "gw.example", "addresses": ["10.0.0.5/32"], "clients": ["::/0"]}, "wider than a site's network"),
        ({"host": "gw.example", "addresses": ["0.0.0.0/0"], "clients": ["10.9.0.0/16"]}, "wider than a site's network"),
        (
            {"host": "gw.example", "addresses": ["10.0.0.5/32"], "clients": ["0.0.0.0/1", "128.0.0.0/1"]},
            "wider than a site's network",
        ),
        ({"host": "gw.example", "addresses": ["10.0.0.5/32"], "clients": ["fd00::/31"]}, "at most /32 for IPv6"),
        ({"host": "gw.example", "addresses": ["10.0.0.5/255.255.255.255"], "clients": ["10.9.0.0/16"]}, "netmask"),
        ({"host": "localhost", "addresses": ["10.0.0.5/32"], "clients": ["10.9.0.0/16"]}, "single-label name"),
    ],
)
def test_a_bad_federation_spec_names_the_field(federation, message):
    with pytest.raises(ValueError, match=message):
        router(federation=federation)


def test_exports_offer_the_groups_served_from_the_site_itself():
    fed = {"host": "gw.edge.example", "addresses": ["10.0.0.5/32"], "clients": ["10.9.0.0/16"]}
    exported = federation_exports(SiteSpec.model_validate(SITE), [router(federation=fed), router(name="plain")])
    assert exported == {
        "gw": {
            "url": "https://gw.edge.example/v1",
            "addresses": ["10.0.0.5/32"],
            "site": "edge",
            "jurisdiction": "DE",
            "models": ["chat"],  # chat-dc (a peer) and chat-ext (a provider) are not this site's to offer: one hop
        }
    }


def test_references_bind_in_their_two_places_and_nowhere_else():
    r = router(peerCaSecret={"name": "fleet-ca", "key": "ca.crt"})
    peer = r.peer_backends[0]
    assert parse_ref(ref(peer, "url")) == ("dc", "dc-gw", "url")
    qualified = r.model_copy(update={"backends": (peer.model_copy(update={"stack": "acme/fleet/dc-prod"}),)})
    assert parse_ref(ref(qualified.backends[0], "addresses")) == ("acme/fleet/dc-prod", "dc-gw", "addresses")
    look_alike = ref(peer, "url")  # the same text where a user's value could be (an image, an annotation)
    manifest = {
        "containers": [
            {
                "image": look_alike,
                "env": [
                    {"name": "LLMKUBE_UPSTREAM_DC", "value": ref(peer, "url")},
                    {"name": "OTHER", "value": look_alike},
                    {"name": "X", "value": "llmkube-peerish"},
                ],
            }
        ],
        "egress": [{"to": [{"ipBlock": {"cidr": ref(peer, "addresses")}}], "ports": [{"port": 443}]}],
        "annotations": {"note": look_alike},
    }
    assert has_refs(manifest) and not has_refs({"a": ["llmkube-pee", 1, None]})
    seen = []

    def lookup(stack, router_name, field):
        seen.append((stack, router_name, field))
        return "https://bound/v1" if field == "url" else [{"ipBlock": {"cidr": "10.0.0.5/32"}}]

    bound = bind_peer_refs(manifest, lookup)
    assert bound == {
        "containers": [
            {
                "image": look_alike,
                "env": [
                    {"name": "LLMKUBE_UPSTREAM_DC", "value": "https://bound/v1"},
                    {"name": "OTHER", "value": look_alike},
                    {"name": "X", "value": "llmkube-peerish"},
                ],
            }
        ],
        "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.5/32"}}], "ports": [{"port": 443}]}],
        "annotations": {"note": look_alike},
    }
    assert seen == [("dc", "dc-gw", "url"), ("dc", "dc-gw", "addresses")]


GOOD = {"url": "https://gw.dc.example/v1", "addresses": ["10.0.0.5/32"], "models": ["chat"]}


@pytest.mark.parametrize(
    ("exported", "message"),
    [
        (None, "exports no federation endpoint for router dc-gw (endpoints it exports: none)"),
        ({"other": GOOD}, "(endpoints it exports: other)"),
        ({"dc-gw": "https://x"}, "exports no federation endpoint"),
        ({"dc-gw": {**GOOD, "url": "http://gw.dc.example/v1"}}, "federation is HTTPS on port 443"),
        ({"dc-gw": {**GOOD, "url": "https://user@evil.example/v1"}}, "federation is HTTPS on port 443"),
        ({"dc-gw": {**GOOD, "url": "https://gw.dc.example:8443/v1"}}, "federation is HTTPS on port 443"),
        ({"dc-gw": {**GOOD, "url": "https://gw.dc.example/v1?x=1"}}, "federation is HTTPS on port 443"),
        ({"dc-gw": {**GOOD, "url": "https://gw.dc.example/v1\x1b"}}, "federation is HTTPS on port 443"),
        ({"dc-gw": {**GOOD, "url": "https://gw.dc.example:99999/v1"}}, "federation is HTTPS on port 443"),
        ({"dc-gw": {**GOOD, "models": "chat-large"}}, "serves no model group chat"),
        ({"dc-gw": {**GOOD, "addresses": ["0.0.0.0/0x"]}}, "not CIDRs"),
        ({"dc-gw": {**GOOD, "addresses": "10.0.0.0/8"}}, "not CIDRs"),
        ({"dc-gw": {**GOOD, "addresses": ["10.0.0.5/32", "0.0.0.0/00"]}}, "addresses 0.0.0.0/00 for router"),
        ({"dc-gw": {**GOOD, "addresses": ["0.0.0.0/1", "128.0.0.0/1"]}}, "addresses 0.0.0.0/1, 128.0.0.0/1 for"),
        ({"dc-gw": {**GOOD, "addresses": ["10.0.0.0/255.0.0.0"]}}, "addresses 10.0.0.0/255.0.0.0 for"),
        ({"dc-gw": {**GOOD, "addresses": [{"cidr": "10.0.0.0/8"}]}}, "not CIDRs"),
        ({"dc-gw": {**GOOD, "models": ["other"]}}, "serves no model group chat"),
    ],
)
def test_a_hostile_or_missing_export_is_refused(exported, message):
    with pytest.raises(ValueError) as err:
        peer_entry(exported, "org/fleet/dc", "dc-gw", ["chat"])
    assert message in str(err.value)
    assert peer_entry({"dc-gw": GOOD}, "org/fleet/dc", "dc-gw", ["chat"])["url"] == GOOD["url"]


def test_the_fleet_fills_peer_jurisdictions_and_tolerates_junk():
    routers = [{"name": "gw", "backends": [dict(PEER, jurisdiction=None), {"name": "l", "service": "chat"}, 7]}, "x"]
    filled, problems = fill_peer_jurisdictions({"dc": "FR", "edge": "DE"}, routers)
    assert problems == [] and filled[0]["backends"][0]["jurisdiction"] == "FR" and filled[1] == "x"
    assert fill_peer_jurisdictions({"dc": "FR"}, "not a list") == ("not a list", [])
    _, problems = fill_peer_jurisdictions({"dc": "FR"}, [{"backends": [dict(PEER, jurisdiction="fr")]}])
    assert problems == []


def test_outside_a_fleet_a_peer_needs_its_jurisdiction():
    config = {
        "site": SITE,
        "services": [SERVICE],
        "routers": [
            {
                "name": "gw",
                "masterKeySecret": {"name": "gw-keys", "key": "master"},
                "backends": [{k: v for k, v in PEER.items() if k != "jurisdiction"}],
                "modelGroups": [{"name": "chat", "backends": ["dc"]}],
            }
        ],
    }
    with pytest.raises(SpecError) as err:
        load_stack_config(config)
    assert "routers[0].backends[0].jurisdiction" in str(err.value)
    config["routers"][0]["backends"][0]["jurisdiction"] = "FR"
    assert load_stack_config(config).routers[0].peer_backends[0].jurisdiction == "FR"


def test_a_peer_ca_needs_a_peer():
    with pytest.raises(ValueError, match="peerCaSecret is set but no backend is another site's Router"):
        RouterSpec.model_validate(
            {
                "name": "gw",
                "masterKeySecret": {"name": "k", "key": "m"},
                "peerCaSecret": {"name": "ca", "key": "ca.crt"},
                "backends": [{"name": "local", "service": "chat"}],
                "modelGroups": [{"name": "chat", "backends": ["local"]}],
            }
        )


@pytest.mark.parametrize(
    ("peer_key", "message"),
    [
        ({"name": "gw-keys", "key": "master"}, "gw-keys/master is masterKeySecret: it would be sent to dc"),
        ({"name": "gw-keys", "key": "app"}, "gw-keys/app is the key of team app: it would be sent to dc"),
        ({"name": "gw-keys", "key": "openai"}, "is a provider's key: it would be sent to a peer"),
    ],
)
def test_a_key_clients_use_or_a_providers_key_is_never_sent_to_a_peer(peer_key, message):
    with pytest.raises(ValueError, match=message):
        RouterSpec.model_validate(
            {
                "name": "gw",
                "masterKeySecret": {"name": "gw-keys", "key": "master"},
                "backends": [{"name": "local", "service": "chat"}, {**PEER, "keySecret": peer_key}, EXTERNAL],
                "modelGroups": [{"name": "chat", "backends": ["local", "dc", "ext"]}],
                "teams": [{"name": "app", "keySecret": {"name": "gw-keys", "key": "app"}}],
            }
        )


def test_the_peer_ca_is_mounted_under_a_fixed_file_name():
    svc = InferenceServiceSpec.model_validate(SERVICE)
    r = router(peerCaSecret={"name": "fleet-ca", "key": "..data"})
    deployment = next(m for m in plan_router(SiteSpec.model_validate(SITE), r, [svc]) if m["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    volume = next(v for v in pod["volumes"] if v["name"] == "peer-ca")
    assert volume["secret"]["items"] == [{"key": "..data", "path": "ca.crt"}]
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    assert env["SSL_CERT_FILE"] == "/etc/llmkube-peer-ca/ca.crt"


def test_a_bad_stack_name_says_what_a_stack_name_is():
    with pytest.raises(ValueError, match="is not a stack name"):
        router(backends=[{**PEER, "stack": "a/b"}])


def test_residency_refuses_a_cross_site_route_of_unknown_jurisdiction_and_judges_a_known_one():
    from llmkube_iac.policy.rules.data_residency import DEFAULT_ALLOWED, routing_residency_violations

    site = SiteSpec.model_validate(SITE)
    bounded = {c: codes for c, codes in DEFAULT_ALLOWED.items() if "*" not in codes}
    unknown = router(
        backends=[{k: v for k, v in PEER.items() if k != "jurisdiction"}],
        modelGroups=[{"name": "chat", "backends": ["dc"]}],
    )
    problems = routing_residency_violations(site, unknown, bounded)
    assert [p for p, _ in problems] == ["routers[gw].backends[0].jurisdiction"]
    assert "whose jurisdiction is unknown: refused" in problems[0][1]

    abroad = router(
        backends=[{**PEER, "jurisdiction": "US", "maxClassification": "restricted"}],
        modelGroups=[{"name": "chat", "backends": ["dc"]}],
    )
    messages = [m for _, m in routing_residency_violations(site, abroad, bounded)]
    assert any("backend dc is in US but confidential data may only be processed in" in m for m in messages)
    assert not [m for m in messages if "external providers may receive" in m]  # a peer is not a provider
    at_home = router(
        backends=[{**PEER, "maxClassification": "restricted"}], modelGroups=[{"name": "chat", "backends": ["dc"]}]
    )
    assert routing_residency_violations(site, at_home, bounded) == []  # FR is in the EU/EEA
