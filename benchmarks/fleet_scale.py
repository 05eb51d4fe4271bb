"""Fleet at scale: placement of S sites x N services per site (planner only), and the full offline
render of the whole fleet from one program against the SDK's mock monitor registering the same
manifests with no llmkube code in the way (the bare registration of benchmarks/render_scale.py).

    python benchmarks/fleet_scale.py [--sites 50] [--per-site 20] [--no-render] [--rounds 1]

Targets: placing 50 sites x 20 services takes < 2 s; full render / bare mock registration <= 1.3.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from render_scale import BUILD, bare_registration  # noqa: E402  (same bare baseline as render_scale)

from llmkube_iac.plan.placement import place_fleet, site_share  # noqa: E402
from llmkube_iac.plan.stack import plan_stack  # noqa: E402
from llmkube_iac.render.engine import render_program  # noqa: E402
from llmkube_iac.spec import load_stack_config  # noqa: E402
from llmkube_iac.spec.fleet import load_fleet  # noqa: E402

JURISDICTIONS = ("DE", "FR", "NL", "US", "CH")
ECON = {"electricityDollarsPerKWh": 0.2, "pue": 1.3}


def site(i: int) -> dict:
    kind = i % 4
    s = {"name": f"site-{i:03d}", "jurisdiction": JURISDICTIONS[i % len(JURISDICTIONS)], "economics": ECON}
    if kind == 0:
        s["accelerators"] = [
            {
                "name": "h100",
                "vendor": "nvidia",
                "product": "NVIDIA H100 80GB",
                "memoryGiB": 80,
                "devicesPerNode": 8,
                "nodeCount": 4,
                "economics": {"priceDollars": 30000 + i, "powerWatts": 700},
            },
            {
                "name": "mi300x",
                "vendor": "amd",
                "product": "AMD Instinct MI300X",
                "memoryGiB": 192,
                "devicesPerNode": 8,
                "nodeCount": 2,
                "economics": {"priceDollars": 20000 + i, "powerWatts": 750},
            },
        ]
    elif kind == 1:
        s.update(
            airGapped=True, registryMirrors=[{"mirror": "registry.internal/mirror"}], modelStores=["models.internal"]
        )
        s["accelerators"] = [
            {
                "name": "l4",
                "vendor": "nvidia",
                "product": "NVIDIA L4",
                "memoryGiB": 24,
                "devicesPerNode": 1,
                "nodeCount": 12,
                "economics": {"priceDollars": 2500 + i, "powerWatts": 72},
            }
        ]
    elif kind == 2:
        s["metalHosts"] = [
            {
                "name": f"mac-{h}",
                "chip": "M3 Ultra",
                "unifiedMemoryGiB": 512,
                "address": f"10.0.{i}.{h}",
                "economics": {"priceDollars": 9500, "powerWatts": 270},
            }
            for h in range(3)
        ]
    else:
        s["accelerators"] = [
            {
                "name": "h200",
                "vendor": "nvidia",
                "product": "NVIDIA H200",
                "memoryGiB": 140,
                "devicesPerNode": 8,
                "nodeCount": 2,
                "economics": {"priceDollars": 35000 + i, "powerWatts": 700},
            }
        ]
    return s


MODELS = [
    {
        "name": "qwen3-5-9b",
        "source": "https://models.internal/Qwen3.5-9B-Q4_K_M.gguf",
        "quantization": "Q4_K_M",
        "totalParametersB": 9,
        "architecture": "Dense",
        "sizeGiB": 5.3,
    },
    {
        "name": "qwen3-30b-a3b",
        "source": "https://models.internal/Qwen3-30B-A3B-Q4_K_M.gguf",
        "quantization": "Q4_K_M",
        "architecture": "MoE",
        "totalParametersB": 30.5,
        "activeParametersB": 3.3,
        "sizeGiB": 17.3,
    },
]


def service(j: int) -> dict:
    return {
        "name": f"svc-{j:04d}",
        "model": MODELS[j % 2]["name"],
        "runtime": "llamacpp",
        "accelerator": {"vendor": "nvidia", "count": 1},
        "contextSize": 8192,
        "parallelSlots": 4,
        "endpoint": {"port": 10000 + j},  # services sharing a metal host listen on their own ports
        "classification": ("public", "internal", "confidential")[j % 3],
        "placement": {"vendors": ["nvidia", "amd", "metal"]},
    }


def fleet(sites: int, per_site: int) -> dict:
    return {
        "sites": [site(i) for i in range(sites)],
        "models": MODELS,
        "services": [service(j) for j in range(sites * per_site)],
    }


def _render(raw: dict):
    """(full render s, bare registration s, the render's result, the manifests) for one fleet definition."""
    spec = load_fleet(raw)
    placement = place_fleet(spec)
    manifests = [
        m
        for s in spec.sites
        for m in plan_stack(load_stack_config(site_share(spec, placement, s.name, {}))).all_manifests()
        if m["apiVersion"] != "llmkube.dev/v1"
    ]
    BUILD.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=BUILD) as tmp:
        prog = Path(tmp) / "prog"
        prog.mkdir()
        (prog / "Pulumi.yaml").write_text("name: llmkube\nruntime: python\n")
        (prog / "__main__.py").write_text("from llmkube_iac.components.program import run\nrun()\n")
        (prog / "fleet.yaml").write_text(yaml.safe_dump(raw))
        (prog / "Pulumi.all.yaml").write_text(
            yaml.safe_dump({"config": {"llmkube:fleet": "fleet.yaml", "llmkube:fleetSite": "*"}})
        )
        start = time.perf_counter()
        result = render_program(prog, "all", Path(tmp) / "out")
        render_s = time.perf_counter() - start
    return render_s, bare_registration(manifests), result, manifests


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=50)
    parser.add_argument("--per-site", type=int, default=20)
    parser.add_argument("--no-render", action="store_true", help="time the planner only")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="render and bare registration alternately this many times; each side's fastest round is compared "
        "(on a shared, noisy machine one slow moment then cannot decide the ratio)",
    )
    args = parser.parse_args()
    raw = fleet(args.sites, args.per_site)
    place_fleet(load_fleet(fleet(2, 2)))  # warm-up: imports and the catalog load land outside the timing
    if not args.no_render:  # and a tiny render and bare registration (as render_scale does): neither side is
        _render(fleet(2, 2))  # timed with the first import of the SDK, pulumi_kubernetes' modules, the policy pack
    start = time.perf_counter()
    spec = load_fleet(raw)
    placement = place_fleet(spec)
    plan_s = time.perf_counter() - start
    placed = sum(1 for p in placement.placed if p.site)
    row = {"sites": args.sites, "services": len(spec.services), "placed": placed, "placement_s": round(plan_s, 3)}
    print(
        f"{args.sites} sites x {args.per_site} services: {placed}/{len(spec.services)} placed in {plan_s:.3f} s "
        "(validation + placement)",
        flush=True,
    )
    ok = plan_s < 2.0 and placed == len(spec.services)
    if not args.no_render:
        rounds = [_render(raw) for _ in range(max(1, args.rounds))]
        render_s, bare_s = min(r[0] for r in rounds), min(r[1] for r in rounds)
        result, manifests = rounds[0][2], rounds[0][3]
        if len(rounds) > 1:
            row["rounds"] = [{"render_s": round(r[0], 2), "bare_mock_s": round(r[1], 2)} for r in rounds]
        row.update(
            manifests=len(manifests),
            resources=len(result.resources),
            render_s=round(render_s, 2),
            bare_mock_s=round(bare_s, 2),
            ratio=round(render_s / bare_s, 3),
            mandatory=sum(1 for p in result.policy_results if p.level == "mandatory"),
        )
        print(
            f"full render (placement, plan, registration, policies, YAML, plan.json, report.html) {render_s:.2f} s "
            f"for {len(result.resources)} resources; bare mock registration of the {len(manifests)} manifests "
            f"{bare_s:.2f} s; ratio {render_s / bare_s:.3f}",
            flush=True,
        )
        ok = ok and render_s / bare_s <= 1.3
    print(json.dumps(row))
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
