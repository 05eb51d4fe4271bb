"""Fixtures: a fake API server, a desired-state writer, and agents with test timings."""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import time
from pathlib import Path

import pytest

from llmkube_iac.agent import cli
from llmkube_iac.agent.config import AgentConfig
from llmkube_iac.agent.kube import Credentials, KubeClient
from llmkube_iac.plan.metal import endpoint_slice
from llmkube_iac.spec import SiteSpec
from llmkube_iac.spec.metal import (
    DESIRED_STATE_KEY,
    VERSION_KEY,
    DesiredState,
    MetalServiceState,
    config_map_name,
    slice_name,
)
from llmkube_iac.units import GIB
from tests.support import fake_runtime
from tests.support.fake_apiserver import FakeApiServer
from tests.support.loopback import free_port

NS, HOST, TOKEN = "llmkube", "studio-1", "s3cret-token"
FAKE_RUNTIME = [sys.executable, fake_runtime.__file__]


def wait_for(cond, timeout: float = 10.0, interval: float = 0.02, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def api():
    server = FakeApiServer(token=TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def model_file(tmp_path) -> tuple[Path, str]:
    path = tmp_path / "models" / "tiny.gguf"
    path.parent.mkdir()
    path.write_bytes(b"GGUF" + b"\0" * 4096)
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


def svc_state(
    name: str,
    model: tuple[Path, str],
    port: int | None = None,
    priority: int = 2,
    extra: tuple[str, ...] = (),
    sha256: str | None = None,
    estimate: int | None = None,
) -> MetalServiceState:
    path, digest = model
    return MetalServiceState(
        name=name,
        source=f"file://{path}",
        sha256=sha256 or digest,
        cache_key=f"{name}/x",
        runtime="llama-server",
        args=("--model", "{model}", "--host", "{host}", "--port", "{port}", "--alias", name) + extra,
        port=port or free_port(),
        priority=priority,
        memory_estimate_bytes=estimate,
    )


SITE = SiteSpec.model_validate(
    {
        "name": "test",
        "jurisdiction": "DE",
        "namespace": NS,
        "metalHosts": [{"name": HOST, "chip": "M3 Ultra", "unifiedMemoryGiB": 64, "address": "127.0.0.1"}],
    }
)


def write_desired(api: FakeApiServer, services, budget: int = 64 * GIB, raw: str | None = None) -> dict:
    """Apply a desired state as `pulumi up` would: the ConfigMap, and each service's EndpointSlice (not ready)."""
    state = DesiredState(
        host=HOST,
        address="127.0.0.1",
        memory_budget_bytes=budget,
        namespace=NS,
        lease_name=f"{HOST}-metal-agent",
        services=tuple(services),
    )
    for svc in services:
        if api.get_object("endpointslices", NS, slice_name(svc.name, HOST)) is None:
            api.put_object("endpointslices", endpoint_slice(SITE, state, svc))
    return api.put_object(
        "configmaps",
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": config_map_name(HOST), "namespace": NS},
            "data": {DESIRED_STATE_KEY: raw if raw is not None else state.to_json(), VERSION_KEY: state.version_hash()},
        },
    )


def put_secret(api: FakeApiServer, name: str, key: str, value: str) -> dict:
    """A Secret as created out of band (kubectl create secret generic ...)."""
    return api.put_object(
        "secrets",
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": NS},
            "type": "Opaque",
            "data": {key: base64.b64encode(value.encode()).decode()},
        },
    )


@pytest.fixture
def start_agent(api, tmp_path):
    """start_agent(**overrides) -> (agent, sync); every agent is shut down after the test."""
    started = []

    def start(**overrides):
        cfg = AgentConfig(
            host=HOST,
            namespace=NS,
            cache_dir=tmp_path / "cache",
            state_dir=tmp_path / "state",
            runtimes={"llama-server": FAKE_RUNTIME},
            metrics_port=None,
            lease_renew_seconds=0.5,
            backoff_base_seconds=0.2,
            stop_grace_seconds=3,
            liveness_seconds=0.5,
            pressure_seconds=0.2,
            evict_cooldown_seconds=0.3,
            watch_timeout_seconds=5,
        )
        for key, value in overrides.items():
            setattr(cfg, key, value)
        client = KubeClient(Credentials(server=api.url, token=TOKEN), NS, timeout=2)
        agent, sync = cli.run(cfg, client)
        started.append((agent, sync))
        return agent, sync

    yield start
    for agent, sync in started:
        if agent.thread.is_alive():
            cli.shutdown(agent, sync, timeout=10)


def status(agent, name: str) -> dict:
    return agent.snapshot()["services"].get(name, {})


def slice_ready(api: FakeApiServer, service: str):
    """The endpoint's readiness; None when the slice has no endpoint (deregistered) or does not exist."""
    obj = api.get_object("endpointslices", NS, f"{service}-{HOST}")
    return obj["endpoints"][0]["conditions"]["ready"] if obj and obj["endpoints"] else None


def lease_status(api: FakeApiServer) -> dict:
    lease = api.get_object("leases", NS, f"{HOST}-metal-agent") or {}
    return json.loads(lease.get("metadata", {}).get("annotations", {}).get("llmkube.dev/agent-status", "{}"))
