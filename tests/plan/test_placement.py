"""Placement across sites: each rule that rejects a site, capacity taken in order, cost and tie-breaks,
and a refusal that names every site's reason."""

from __future__ import annotations

import copy

import pytest

from llmkube_iac.plan.placement import place_fleet, refusals, site_share
from llmkube_iac.spec import load_stack_config
from llmkube_iac.spec.errors import SpecError
from llmkube_iac.spec.fleet import load_fleet

ECON = {"priceDollars": 20000, "powerWatts": 700}


def pool(name="h100", vendor="nvidia", product="NVIDIA H100 80GB", memory=80, per_node=8, nodes=1, **econ):
    return {
        "name": name,
        "vendor": vendor,
        "product": product,
        "memoryGiB": memory,
        "devicesPerNode": per_node,
        "nodeCount": nodes,
        "economics": {**ECON, **econ},
    }


def site(name, jurisdiction="DE", pools=None, **kw):
    return {
        "name": name,
        "jurisdiction": jurisdiction,
        "economics": {"electricityDollarsPerKWh": 0.2},
        "accelerators": pools if pools is not None else [pool()],
        **kw,
    }


MODEL = {
    "name": "small",
    "source": "https://models.internal/Qwen3.5-9B-Q4_K_M.gguf",
    "quantization": "Q4_K_M",
    "totalParametersB": 9,
    "architecture": "Dense",
    "sizeGiB": 5.3,
}


def svc(name="chat", **kw):
    return {
        "name": name,
        "model": "small",
        "runtime": "llamacpp",
        "accelerator": {"vendor": "nvidia", "count": 1},
        "contextSize": 8192,
        "classification": "internal",
        **kw,
    }


def fleet(sites, services, models=(MODEL,), **kw):
    return load_fleet({"sites": list(sites), "models": list(models), "services": list(services), **kw})


def test_cheapest_site_wins_and_the_others_say_why_not():
    f = fleet([site("a", pools=[pool(priceDollars=40000)]), site("b")], [svc()])
    (p,) = place_fleet(f).placed
    assert (p.site, p.pool, p.vendor, p.fit) == ("b", "h100", "nvidia", "fits")
    assert "qualifies, but at $" in p.rejected["a"] and "at b" in p.rejected["a"]


def test_ties_break_on_site_name_whatever_the_declaration_order():
    for order in (["x", "y"], ["y", "x"]):
        (p,) = place_fleet(fleet([site(n) for n in order], [svc()])).placed
        assert p.site == "x" and "a tie that x wins by name" in p.rejected["y"]


def test_residency_keeps_confidential_data_in_the_eu_by_default_and_follows_the_fleet_table():
    f = fleet(
        [site("us", "US"), site("de", "DE", pools=[pool(priceDollars=90000)])], [svc(classification="confidential")]
    )
    (p,) = place_fleet(f).placed
    assert p.site == "de"
    assert p.rejected["us"].startswith("data residency: confidential data may not be processed in US")
    f = fleet(
        [site("us", "US"), site("de", "DE")],
        [svc(classification="confidential")],
        allowedJurisdictions={"confidential": ["US"]},
    )
    (p,) = place_fleet(f).placed
    assert p.site == "us" and "data residency" in p.rejected["de"]


def test_air_gapped_sites_take_only_models_they_can_reach():
    gapped = site("edge", airGapped=True, registryMirrors=[{"mirror": "registry.internal"}])
    f = fleet([gapped], [svc()])
    assert place_fleet(f).placed[0].site is None
    assert "not one of the site's modelStores" in place_fleet(f).placed[0].rejected["edge"]
    f = fleet([{**gapped, "modelStores": ["models.internal"]}], [svc()])
    assert place_fleet(f).placed[0].site == "edge"


def test_fit_decides_and_unknown_fit_is_refused():
    tiny = pool("l4", product="NVIDIA L4", memory=2)
    (p,) = place_fleet(fleet([site("a", pools=[tiny])], [svc()])).placed
    assert p.site is None and p.rejected["a"].startswith("l4: does not fit")
    blind = {"name": "blind", "source": "https://models.internal/blind.bin"}
    (p,) = place_fleet(fleet([site("a")], [svc(model="blind")], models=(MODEL, blind))).placed
    assert p.site is None and "fit unknown (missing" in p.rejected["a"]


def test_capacity_is_taken_in_declaration_order():
    small = pool(per_node=1, nodes=2)
    f = fleet(
        [site("a", pools=[small]), site("b", pools=[pool(priceDollars=90000)])], [svc("one", replicas=2), svc("two")]
    )
    one, two = place_fleet(f).placed
    assert one.site == "a" and two.site == "b"
    assert "needs 1 device(s) at max replicas but 0 remain" in two.rejected["a"]


def test_constraints_vendors_memory_sites_and_jurisdictions():
    amd = pool("mi300x", "amd", "AMD Instinct MI300X", 192, priceDollars=90000)
    f = fleet(
        [site("a", pools=[pool(), amd]), site("b", "FR")],
        [
            svc("v", placement={"vendors": ["amd"]}),
            svc("m", placement={"minMemoryGiB": 100, "vendors": ["nvidia", "amd"]}),
            svc("s", placement={"sites": ["b"]}),
            svc("j", placement={"jurisdictions": ["FR"]}),
        ],
    )
    v, m, s, j = place_fleet(f).placed
    assert (v.site, v.pool, v.spec.accelerator.vendor) == ("a", "mi300x", "amd")
    assert (m.site, m.pool) == ("a", "mi300x") and "below the 100 GiB minimum" in m.rejected["b"]
    assert s.site == "b" and "not one of placement.sites" in s.rejected["a"]
    assert j.site == "b" and "not one of placement.jurisdictions (FR)" in j.rejected["a"]


def test_metal_hosts_take_services_by_unified_memory():
    mac = {
        "name": "studio",
        "chip": "M3 Ultra",
        "unifiedMemoryGiB": 64,
        "address": "10.0.0.2",
        "economics": {"priceDollars": 6000, "powerWatts": 200},
    }
    f = fleet(
        [site("m", pools=[], metalHosts=[mac])],
        [svc(f"s{i}", accelerator={"vendor": "metal"}, endpoint={"port": 9000 + i}) for i in range(8)],
    )
    placed = place_fleet(f).placed
    assert all(p.spec is None or p.spec.hosts == ("studio",) for p in placed)
    assert placed[0].site == "m" and placed[-1].site is None  # 48 GiB usable runs out
    assert "GiB at max replicas but" in placed[-1].rejected["m"]


def test_nothing_qualifies_refuses_naming_every_site():
    f = fleet([site("us", "US"), site("ch", "CH")], [svc(classification="restricted")])
    problems = refusals(f, place_fleet(f))
    assert problems[0][0] == "fleet.services[0]"
    assert "us: data residency" in problems[0][1] and "ch: data residency" in problems[0][1]


def test_images_per_vendor_and_the_site_share():
    f = fleet(
        [site("a", pools=[pool("mi300x", "amd", "AMD Instinct MI300X", 192)])],
        [svc(placement={"vendors": ["nvidia", "amd"], "images": {"amd": "ghcr.io/x/rocm@sha256:" + "a" * 64}})],
        models=(MODEL, {"name": "unused", "source": "hf://org/unused"}),
    )
    placement = place_fleet(f)
    raw = site_share(f, placement, "a", {"services": [svc("local")]})
    config = load_stack_config(raw)
    assert [s.name for s in config.services] == ["chat", "local"]
    assert config.services[0].image.startswith("ghcr.io/x/rocm@") and [m.name for m in config.models] == ["small"]
    with pytest.raises(SpecError, match="remove llmkube:site"):
        site_share(f, placement, "a", {"site": {}})
    with pytest.raises(SpecError, match="not in the fleet"):
        site_share(f, placement, "nowhere", {})


def test_placement_is_deterministic():
    sites = [site(f"s{i}", pools=[pool(per_node=1, nodes=1)]) for i in range(6)]
    services = [svc(f"x{i}") for i in range(5)]
    first = place_fleet(fleet(sites, services)).to_dict()
    assert first == place_fleet(fleet(list(reversed(sites)), services)).to_dict()


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda f: f["services"][0].update(model="nope"), "unknown model 'nope'"),
        (lambda f: f["services"][0].update(placement={"sites": ["nowhere"]}), "unknown site 'nowhere'"),
        (lambda f: f["services"][0].update(placement={"vendors": ["metal"], "jurisdictions": ["XX1"]}), "ISO 3166-1"),
        (lambda f: f["services"][0].update(runtime="vllm", placement={"vendors": ["metal"]}), "vllm"),
        (lambda f: f["sites"].append(copy.deepcopy(f["sites"][0])), "duplicate site name"),
        (lambda f: f.update(allowedJurisdictions={"secret": ["DE"]}), "unknown data class"),
        (lambda f: f.update(extra=1), "unknown field"),
    ],
)
def test_bad_fleet_definitions_name_the_field(change, message):
    raw = {"sites": [site("a")], "models": [MODEL], "services": [svc()]}
    change(raw)
    with pytest.raises(SpecError) as err:
        load_fleet(raw)
    assert message in str(err.value) and "fleet" in str(err.value)


def test_services_on_one_metal_host_need_their_own_ports():
    mac = {"name": "studio", "chip": "M3 Ultra", "unifiedMemoryGiB": 192, "address": "10.0.0.2"}
    f = fleet(
        [site("m", pools=[], metalHosts=[mac])],
        [svc("a", accelerator={"vendor": "metal"}), svc("b", accelerator={"vendor": "metal"})],
    )
    a, b = place_fleet(f).placed
    assert a.site == "m" and b.site is None
    assert "port 8080 is already used by a on the host" in b.rejected["m"]
