"""metal-agent latency and footprint, measured against real processes on loopback.

Runs the real `llmkube-metal-agent` CLI as a child process against the fake API server, with the
fake OpenAI runtime standing in for llama-server, and prints:
  exit-to-unready   kill -9 of a runtime -> its EndpointSlice says ready=false   (target <= 1 s)
  exit-to-restart   kill -9 -> the replacement process is running (load excluded) (target <= 2 s)
  healthy-to-registered  runtime's /health first 200 -> EndpointSlice ready=true (target <= 2 s)
  idle CPU, RSS     of the agent process alone, runtimes excluded                 (< 1 %, < 80 MB)

    python benchmarks/agent_latency.py [--trials 5] [--idle-seconds 20]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository's tests/support helpers

from llmkube_iac.spec.metal import (
    DESIRED_STATE_KEY,
    STATUS_ANNOTATION,
    VERSION_KEY,
    DesiredState,
    MetalServiceState,
    config_map_name,
    lease_name,
    slice_name,
)
from tests.support import fake_runtime  # noqa: E402
from tests.support.fake_apiserver import FakeApiServer  # noqa: E402
from tests.support.loopback import free_port  # noqa: E402

NS, HOST, TOKEN = "llmkube", "bench-host", "bench-token"
TICK = 0.002


def _until(cond, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(TICK)
    raise TimeoutError("benchmark condition not reached")


def _ready(api, svc):
    obj = api.get_object("endpointslices", NS, slice_name(svc, HOST))
    return None if obj is None else obj["endpoints"][0]["conditions"]["ready"]


def _status(api) -> dict:
    lease = api.get_object("leases", NS, lease_name(HOST)) or {}
    return json.loads(lease.get("metadata", {}).get("annotations", {}).get(STATUS_ANNOTATION, "{}"))


def _pid(api, svc):
    return _status(api).get("services", {}).get(svc, {}).get("pid")


def _healthy(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--idle-seconds", type=float, default=20.0)
    ap.add_argument("--load-seconds", type=float, default=1.0, help="fake model load time before /health is 200")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="agent-bench-"))
    model = work / "m.gguf"
    model.write_bytes(b"GGUF" + os.urandom(1 << 16))
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    names = [f"svc{i}" for i in range(args.trials)]
    ports = {n: free_port() for n in names}
    services = [
        MetalServiceState(
            name=n,
            source=f"file://{model}",
            sha256=digest,
            cache_key=f"{n}/c",
            port=ports[n],
            runtime="llama-server",
            args=(
                "--model",
                "{model}",
                "--host",
                "{host}",
                "--port",
                "{port}",
                # staggered loads: each becomes healthy while we are watching it
                "--load-seconds",
                str(args.load_seconds * (1 + i)),
            ),
        )
        for i, n in enumerate(names)
    ]
    state = DesiredState(
        host=HOST,
        address="127.0.0.1",
        memory_budget_bytes=64 << 30,
        namespace=NS,
        lease_name=lease_name(HOST),
        services=tuple(services),
    )
    api = FakeApiServer(token=TOKEN).start()
    api.put_object(
        "configmaps",
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": config_map_name(HOST), "namespace": NS},
            "data": {DESIRED_STATE_KEY: state.to_json(), VERSION_KEY: state.version_hash()},
        },
    )
    (work / "token").write_text(TOKEN)
    runtime = f"llama-server={sys.executable} {fake_runtime.__file__}"
    agent = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llmkube_iac.agent.cli",
            "run",
            "--host",
            HOST,
            "--namespace",
            NS,
            "--server",
            api.url,
            "--token-file",
            str(work / "token"),
            "--runtime",
            runtime,
            "--cache-dir",
            str(work / "cache"),
            "--state-dir",
            str(work / "state"),
            "--metrics-address",
            "127.0.0.1",
            "--metrics-port",
            str(free_port()),
        ],
        stdout=subprocess.DEVNULL,
        stderr=open(work / "agent.log", "wb"),
    )
    try:
        registered = []
        for n in names:  # healthy -> registered, observed from outside like a client would
            assert _ready(api, n) is not True, "benchmark started watching too late"
            _until(lambda n=n: _healthy(ports[n]), timeout=60)
            t0 = time.monotonic()
            _until(lambda n=n: _ready(api, n) is True)
            registered.append(time.monotonic() - t0)
        unready, restart = [], []
        for n in names:  # one first crash per service: backoff starts fresh each time
            pid = _pid(api, n)
            t0 = time.monotonic()
            os.kill(pid, signal.SIGKILL)
            _until(lambda n=n: _ready(api, n) is False)
            unready.append(time.monotonic() - t0)
            _until(lambda n=n, pid=pid: _pid(api, n) not in (None, pid))
            restart.append(time.monotonic() - t0)
            _until(lambda n=n: _ready(api, n) is True, timeout=60)
        time.sleep(2.0)
        cpu0, t0 = _cpu_seconds(agent.pid), time.monotonic()
        time.sleep(args.idle_seconds)
        cpu = (_cpu_seconds(agent.pid) - cpu0) / (time.monotonic() - t0) * 100
        rss = _rss_mb(agent.pid)
    finally:
        agent.send_signal(signal.SIGTERM)
        agent.wait(30)
        api.stop()

    def row(label, values, target):
        print(
            f"{label:<24} median {statistics.median(values) * 1000:7.1f} ms   max {max(values) * 1000:7.1f} ms"
            f"   target <= {target:.0f} s   {'OK' if max(values) <= target else 'MISSED'}"
        )

    print(f"metal-agent latency ({args.trials} trials, {len(names)} runtimes supervised, loopback)")
    row("exit-to-unready", unready, 1)
    row("exit-to-restart", restart, 2)
    row("healthy-to-registered", registered, 2)
    print(
        f"{'idle agent CPU':<24} {cpu:7.2f} %   over {args.idle_seconds:.0f} s   target < 1 %   "
        f"{'OK' if cpu < 1 else 'MISSED'}"
    )
    print(f"{'agent RSS':<24} {rss:7.1f} MB   target < 80 MB   {'OK' if rss < 80 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
