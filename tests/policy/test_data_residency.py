"""Routing cases of the data-residency rule (llmkube_iac.policy.rules.data_residency)."""

from __future__ import annotations

from llmkube_iac.policy.rules.data_residency import routing_residency_violations
from llmkube_iac.spec import SiteSpec
from llmkube_iac.spec.router import RouterSpec

SITE = SiteSpec(name="dc", jurisdiction="DE")


def _router(**ext) -> RouterSpec:
    external = {
        "name": "ext",
        "provider": "openai",
        "model": "gpt-4o-mini",
        "region": "us-east-1",
        "jurisdiction": "US",
        "apiKeySecret": {"name": "k", "key": "openai"},
        **ext,
    }
    return RouterSpec.model_validate(
        {
            "name": "gw",
            "masterKeySecret": {"name": "k", "key": "master"},
            "backends": [{"name": "local", "service": "chat"}, external],
            "modelGroups": [
                {"name": "chat", "backends": ["local"], "fallbacks": ["ext"]},
                {"name": "ext", "backends": ["ext"]},
            ],
        }
    )


def test_public_external_route_is_fine():
    assert routing_residency_violations(SITE, _router()) == []


def test_protected_class_to_external_provider_is_refused():
    for cls in ("confidential", "restricted"):
        problems = routing_residency_violations(SITE, _router(maxClassification=cls))
        assert [p for p, _ in problems] == ["routers[gw].backends[1].maxClassification"]
        assert cls in problems[0][1]


def test_disallowed_jurisdiction():
    problems = routing_residency_violations(
        SITE, _router(maxClassification="internal"), {"internal": ["DE", "FR"], "public": ["DE", "FR", "US"]}
    )
    assert problems == [
        ("routers[gw].backends[1]", "backend ext is in US but internal data may only be processed in DE, FR")
    ]
    assert routing_residency_violations(SITE, _router(), {"internal": ["DE"]}) == []


def test_local_backends_follow_the_site_jurisdiction():
    problems = routing_residency_violations(SITE, _router(), {"restricted": ["FR"]})
    assert (
        "routers[gw].backends[0]",
        "backend local is in DE but restricted data may only be processed in FR",
    ) in problems


def test_air_gapped_site_has_no_external_zone():
    site = SiteSpec(
        name="vault", jurisdiction="DE", airGapped=True, registryMirrors=[{"mirror": "registry.vault.local"}]
    )
    problems = routing_residency_violations(site, _router())
    assert problems and problems[0][0] == "routers[gw].externalZone"
    local_only = RouterSpec.model_validate(
        {
            "name": "gw",
            "masterKeySecret": {"name": "k", "key": "master"},
            "backends": [{"name": "local", "service": "chat"}],
            "modelGroups": [{"name": "chat", "backends": ["local"]}],
        }
    )
    assert routing_residency_violations(site, local_only) == []
    forced = local_only.model_copy(update={"external_zone": True})
    assert routing_residency_violations(site, forced)[0][0] == "routers[gw].externalZone"
