"""Latency the Router's hooks add: the sovereign zone with its hooks vs the same LiteLLM without them.

One run, one fake upstream on loopback, one request (non-streaming chat completion). Three paths:
the upstream directly, LiteLLM started from the zone's config.yaml with `custom_auth` and the
callbacks removed (bare; master-key auth), and LiteLLM started from the ConfigMap as rendered
(hooks: front, auth, guard, audit line per request). Sequential calls over a kept-alive
connection, bare and hooked interleaved in rounds so machine noise hits both alike. Prints p50/p99
and the hooks-vs-bare ratio (target: <= 1.05 at p50).

    bash scripts/install-litellm && python benchmarks/router_overhead.py [--requests 900] [--rounds 30]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from llmkube_iac.plan.router import plan_router  # noqa: E402
from llmkube_iac.plan.router_config import LITELLM_VERSION  # noqa: E402
from llmkube_iac.spec import InferenceServiceSpec, SiteSpec  # noqa: E402
from llmkube_iac.spec.router import RouterSpec  # noqa: E402
from tests.router_hooks.harness import FakeUpstream, Proxy, deployment_env, write_configmap  # noqa: E402


class Client:
    """Times requests end to end (response fully read) over one kept-alive connection per batch."""

    def __init__(self, port: int):
        self.port = port

    def timed(self, path: str, body: dict, headers: dict, n: int) -> list[float]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        data = json.dumps(body)
        out = []
        try:
            for _ in range(n):
                t0 = time.perf_counter()
                conn.request("POST", path, data, {"Content-Type": "application/json", **headers})
                resp = conn.getresponse()
                payload = resp.read()
                out.append((time.perf_counter() - t0) * 1000)
                if resp.status != 200:
                    raise SystemExit(f"request failed with {resp.status}: {payload[:300]!r}")
        finally:
            conn.close()
        return out


def cpu_seconds(pid: int) -> float | None:
    """User+system CPU time of a process (Linux /proc); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def _bare(config: Path, directory: Path) -> Path:
    """The same config.yaml without the hooks: no custom_auth, no callbacks (LiteLLM's master-key auth)."""
    data = yaml.safe_load(config.read_text())
    data["general_settings"].pop("custom_auth", None)
    data["litellm_settings"].pop("callbacks", None)
    directory.mkdir(parents=True, exist_ok=True)
    out = directory / "config.yaml"
    out.write_text(yaml.safe_dump(data, sort_keys=False))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=900, help="timed requests per path (split over the rounds)")
    ap.add_argument("--rounds", type=int, default=30)
    args = ap.parse_args()
    site = SiteSpec(name="bench", jurisdiction="DE")
    services = [InferenceServiceSpec.model_validate({"name": "chat-a", "model": "qwen"})]
    router = RouterSpec.model_validate(
        {
            "name": "gw",
            "masterKeySecret": {"name": "keys", "key": "master"},
            "backends": [{"name": "local-a", "service": "chat-a"}],
            "modelGroups": [{"name": "chat", "backends": ["local-a"]}],
            "teams": [{"name": "bench", "keySecret": {"name": "keys", "key": "bench"}}],
        }
    )
    manifests = plan_router(site, router, services)
    upstream = FakeUpstream("local-a").start()
    cm = next(m for m in manifests if m["kind"] == "ConfigMap")
    dep = next(m for m in manifests if m["kind"] == "Deployment")
    per_round = max(1, args.requests // args.rounds)
    with tempfile.TemporaryDirectory() as tmp:
        config = write_configmap(cm, Path(tmp) / "sovereign")
        env = deployment_env(
            dep,
            {"LLMKUBE_UPSTREAM_LOCAL_A": upstream.base_url},
            {("keys", "master"): "sk-master", ("keys", "bench"): "sk-bench"},
        )
        hooked = Proxy(config, env, Path(tmp) / "hooked.log")
        bare = Proxy(_bare(config, Path(tmp) / "bare"), env, Path(tmp) / "bare.log")
        try:
            hooked.start()
            bare.start()
            body = {"model": "chat", "messages": [{"role": "user", "content": "hello"}], "max_tokens": 8}
            paths = {
                "direct": (Client(upstream.port), {**body, "model": "qwen"}, {}),
                "bare": (Client(bare.port), body, {"Authorization": "Bearer sk-master"}),
                "hooked": (
                    Client(hooked.port),
                    body,
                    {"Authorization": "Bearer sk-bench", "x-llmkube-classification": "internal"},
                ),
            }
            for client, b, h in paths.values():
                client.timed("/v1/chat/completions", b, h, 40)  # warm-up
            times: dict[str, list[float]] = {name: [] for name in paths}
            cpu = {"bare": 0.0, "hooked": 0.0}
            pids = {"bare": bare.proc.pid, "hooked": hooked.proc.pid}
            for r in range(args.rounds):
                order = list(paths) if r % 2 == 0 else list(reversed(paths))
                for name in order:
                    client, b, h = paths[name]
                    c0 = cpu_seconds(pids[name]) if name in pids else None
                    times[name] += client.timed("/v1/chat/completions", b, h, per_round)
                    c1 = cpu_seconds(pids[name]) if name in pids else None
                    if c0 is not None and c1 is not None:
                        cpu[name] += c1 - c0
            audited = sum('"llmkube.audit"' in line for line in hooked.log.read_text().splitlines())
        finally:
            hooked.stop()
            bare.stop()
            upstream.stop()
    print(
        f"LiteLLM {LITELLM_VERSION}; {per_round * args.rounds} requests per path in {args.rounds} interleaved rounds "
        "(sequential, non-streaming, loopback, one kept-alive connection each)"
    )
    p = {name: (_pct(v, 50), _pct(v, 99)) for name, v in times.items()}
    for name, label in (
        ("direct", "upstream directly"),
        ("bare", "bare LiteLLM (no hooks)"),
        ("hooked", "sovereign zone with hooks"),
    ):
        print(f"{label:28s} p50 {p[name][0]:7.2f} ms   p99 {p[name][1]:7.2f} ms")
    print(
        f"hooks vs bare LiteLLM        p50 ratio {p['hooked'][0] / p['bare'][0]:.3f}   "
        f"p99 ratio {p['hooked'][1] / p['bare'][1]:.3f}   (target p50 <= 1.05)"
    )
    print(
        f"added by the hooks           p50 {p['hooked'][0] - p['bare'][0]:+7.2f} ms; "
        f"audit lines written {audited} (warm-up included)"
    )
    n = per_round * args.rounds
    if cpu["bare"] and cpu["hooked"]:
        print(
            f"proxy CPU per request        bare {cpu['bare'] * 1000 / n:.2f} ms, "
            f"hooked {cpu['hooked'] * 1000 / n:.2f} ms "
            f"(ratio {cpu['hooked'] / cpu['bare']:.3f}; less sensitive to a busy machine than latency)"
        )


if __name__ == "__main__":
    main()
