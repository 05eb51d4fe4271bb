"""The router sends a metal service's API key: the real LiteLLM proxy, planned as the stack plans it, in
front of the loopback stand-in for llama-server started with --api-key-file (it refuses any other key)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from llmkube_iac.plan.stack import plan_stack
from llmkube_iac.spec import load_stack_config
from tests.support import fake_runtime
from tests.support.loopback import free_port

from .harness import Proxy, deployment_env, send, write_configmap

pytestmark = pytest.mark.router
KEY, TEAM = "k-metal-5eb1", "sk-team-8c2"
STACK = {
    "site": {
        "name": "edge",
        "jurisdiction": "DE",
        "metalHosts": [{"name": "studio-1", "chip": "M3 Ultra", "unifiedMemoryGiB": 192, "address": "10.20.0.11"}],
    },
    "models": [{"name": "qwen", "source": "hf://Qwen/Qwen3-8B-GGUF/Qwen3-8B-Q4_K_M.gguf", "sizeGiB": 5}],
    "services": [{"name": "chat", "model": "qwen", "accelerator": {"vendor": "metal"}}],
    "routers": [
        {
            "name": "gw",
            "masterKeySecret": {"name": "gw-keys", "key": "master"},
            "backends": [{"name": "macs", "service": "chat"}],
            "modelGroups": [{"name": "chat", "backends": ["macs"]}],
            "timeouts": {"numRetries": 0, "requestSeconds": 10, "allowedFails": 0},
            "teams": [{"name": "app", "keySecret": {"name": "gw-keys", "key": "app"}}],
        }
    ],
}


@pytest.fixture
def llama_server(tmp_path):
    """The fake llama-server with the planned key file, on loopback."""
    key_file = tmp_path / "chat.key"
    key_file.write_text(KEY + "\n")
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            fake_runtime.__file__,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--alias",
            "chat",
            "--no-slots",
            "--api-key-file",
            str(key_file),
        ]
    )
    yield f"http://127.0.0.1:{port}/v1"
    proc.terminate()
    proc.wait(10)


def _zone(tmp_path, upstream: str, key: str) -> Proxy:
    manifests = plan_stack(load_stack_config(STACK)).routers["gw"]
    cm = next(m for m in manifests if m["kind"] == "ConfigMap" and m["metadata"]["name"] == "gw-config")
    dep = next(m for m in manifests if m["kind"] == "Deployment" and m["metadata"]["name"] == "gw")
    secrets = {("gw-keys", "master"): "sk-master-1", ("gw-keys", "app"): TEAM, ("chat-api-key", "api-key"): key}
    env = deployment_env(dep, {"LLMKUBE_UPSTREAM_MACS": upstream}, secrets)
    return Proxy(write_configmap(cm, tmp_path / "zone"), env, tmp_path / "zone.log")


def _chat(proxy: Proxy) -> tuple[int, bytes]:
    body = json.dumps({"model": "chat", "messages": [{"role": "user", "content": "hi"}]}).encode()
    status, _, raw = send(
        proxy.port,
        "POST",
        "/v1/chat/completions",
        [
            ("Authorization", f"Bearer {TEAM}"),
            ("Content-Type", "application/json"),
            ("x-llmkube-classification", "confidential"),
        ],
        body,
    )
    return status, raw


def test_the_sovereign_zone_sends_the_metal_services_key(tmp_path, llama_server):
    proxy = _zone(tmp_path, llama_server, KEY).start()
    try:
        status, raw = _chat(proxy)
        assert status == 200, raw[-500:]
        assert json.loads(raw)["choices"][0]["message"]["content"] == "ok"
    finally:
        proxy.stop()
    # without the key the upstream refuses, so the request fails instead of reaching the model
    proxy = _zone(tmp_path, llama_server, "k-wrong").start()
    try:
        status, _ = _chat(proxy)
        assert status >= 400
    finally:
        proxy.stop()
