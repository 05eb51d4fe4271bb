"""Latency the sovereign Router zone adds: p50/p99 through LiteLLM vs calling the local upstream directly.

Same run, same fake upstream on loopback, same request (non-streaming chat completion), sequential
calls over a kept-alive connection so the figures are per-request latency, not throughput.

    bash scripts/install-litellm && python benchmarks/router_overhead.py [--requests 500]
"""
from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from llmkube_iac.plan.router import plan_router  # noqa: E402
from llmkube_iac.spec import InferenceServiceSpec, SiteSpec  # noqa: E402
from llmkube_iac.spec.router import RouterSpec  # noqa: E402
from tests.router.harness import FakeUpstream, Proxy, deployment_env, write_configmap  # noqa: E402


def _timed(port: int, path: str, body: dict, headers: dict, n: int) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    data = json.dumps(body)
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        conn.request("POST", path, data, {"Content-Type": "application/json", **headers})
        resp = conn.getresponse()
        resp.read()
        out.append((time.perf_counter() - t0) * 1000)
        assert resp.status == 200, resp.status
    conn.close()
    return out


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=500)
    args = ap.parse_args()
    site = SiteSpec(name="bench", jurisdiction="DE")
    services = [InferenceServiceSpec.model_validate({"name": "chat-a", "model": "qwen"})]
    router = RouterSpec.model_validate({
        "name": "gw", "masterKeySecret": {"name": "keys", "key": "master"},
        "backends": [{"name": "local-a", "service": "chat-a"}], "modelGroups": [{"name": "chat", "backends": ["local-a"]}],
        "teams": [{"name": "bench", "keySecret": {"name": "keys", "key": "bench"}}]})
    manifests = plan_router(site, router, services)
    upstream = FakeUpstream("local-a").start()
    cm = next(m for m in manifests if m["kind"] == "ConfigMap")
    dep = next(m for m in manifests if m["kind"] == "Deployment")
    with tempfile.TemporaryDirectory() as tmp:
        config = write_configmap(cm, Path(tmp) / "sovereign")
        env = deployment_env(dep, {"LLMKUBE_UPSTREAM_LOCAL_A": upstream.base_url},
                             {("keys", "master"): "sk-master", ("keys", "bench"): "sk-bench"})
        proxy = Proxy(config, env, Path(tmp) / "proxy.log").start()
        try:
            body = {"model": "chat", "messages": [{"role": "user", "content": "hello"}], "max_tokens": 8}
            headers = {"Authorization": "Bearer sk-bench", "x-llmkube-classification": "internal"}
            _timed(proxy.port, "/v1/chat/completions", body, headers, 30)  # warm-up
            _timed(upstream.port, "/v1/chat/completions", {**body, "model": "qwen"}, {}, 30)
            direct = _timed(upstream.port, "/v1/chat/completions", {**body, "model": "qwen"}, {}, args.requests)
            routed = _timed(proxy.port, "/v1/chat/completions", body, headers, args.requests)
        finally:
            proxy.stop()
            upstream.stop()
    d50, d99, r50, r99 = _pct(direct, 50), _pct(direct, 99), _pct(routed, 50), _pct(routed, 99)
    print(f"requests per path: {args.requests} (sequential, non-streaming, loopback)")
    print(f"direct to upstream     p50 {d50:7.2f} ms   p99 {d99:7.2f} ms")
    print(f"through sovereign zone p50 {r50:7.2f} ms   p99 {r99:7.2f} ms")
    print(f"added by the router    p50 {r50 - d50:7.2f} ms   p99 {r99 - d99:7.2f} ms")


if __name__ == "__main__":
    main()
