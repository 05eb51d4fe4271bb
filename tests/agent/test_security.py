"""Metal hosts are not open on their LAN: the runtime demands a key from a Secret, the agent works with
exactly the Role the planner grants, binds narrowly and says when a port answers where it should not."""

from __future__ import annotations

import json
import socket
import stat
import subprocess

import pytest
import requests

from llmkube_iac.agent import cli, exposure
from llmkube_iac.plan.metal import plan_metal
from llmkube_iac.spec import InferenceServiceSpec, ModelSpec
from llmkube_iac.spec.base import SecretKeyRef
from llmkube_iac.spec.metal import DESIRED_STATE_KEY, DesiredState
from tests.support.fake_apiserver import FakeApiServer
from tests.support.loopback import free_port

from .conftest import (
    HOST,
    NS,
    SITE,
    TOKEN,
    lease_status,
    put_secret,
    slice_ready,
    status,
    svc_state,
    wait_for,
    write_desired,
)

KEY = "k-7Hq2-metal-key"


def keyed(model_file, name="chat"):
    base = svc_state(name, model_file)
    return base.model_copy(
        update={
            "args": base.args + ("--no-slots", "--api-key-file", "{api_key_file}"),
            "api_key_secret": SecretKeyRef(name=f"{name}-api-key", key="api-key"),
        }
    )


def test_runtime_demands_the_key_from_its_secret_and_waits_for_it(api, start_agent, model_file):
    svc = keyed(model_file)
    write_desired(api, [svc])
    agent, _ = start_agent()
    st = wait_for(
        lambda: (
            lease_status(api).get("services", {}).get("chat", {}).get("phase") == "Pending"
            and lease_status(api)["services"]["chat"]
        ),
        what="waiting for the key",
    )
    assert "Secret chat-api-key" in st["reason"] and status(agent, "chat")["pid"] is None
    assert [e for e in api.list_objects("events", NS) if e["reason"] == "ApiKeyUnavailable"]
    put_secret(api, "chat-api-key", "api-key", KEY + "\n")
    wait_for(lambda: slice_ready(api, "chat") is True, timeout=15, what="started once the key exists")
    url = f"http://127.0.0.1:{svc.port}"
    assert requests.get(f"{url}/health", timeout=5).status_code == 200  # public: the agent's probe needs no key
    assert requests.post(f"{url}/v1/chat/completions", json={}, timeout=5).status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert requests.post(f"{url}/v1/chat/completions", json={}, headers=wrong, timeout=5).status_code == 401
    ok = requests.post(f"{url}/v1/chat/completions", json={}, headers={"Authorization": f"Bearer {KEY}"}, timeout=5)
    assert ok.status_code == 200
    key_file = agent.cfg.state_dir / "keys" / "chat.key"
    assert key_file.read_text() == KEY + "\n"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    argv = subprocess.run(
        ["ps", "-ww", "-p", str(status(agent, "chat")["pid"]), "-o", "args="], capture_output=True, text=True
    ).stdout
    assert str(key_file) in argv and KEY not in argv  # the key never appears on a command line


def test_a_multi_line_key_is_refused(api, start_agent, model_file):
    write_desired(api, [keyed(model_file)])
    put_secret(api, "chat-api-key", "api-key", "one\ntwo")
    agent, _ = start_agent()
    st = wait_for(
        lambda: (
            lease_status(api).get("services", {}).get("chat", {}).get("phase") == "Failed"
            and lease_status(api)["services"]["chat"]
        ),
        what="refused key",
    )
    assert "several lines" in st["reason"] and status(agent, "chat")["pid"] is None


def test_agent_runs_under_exactly_the_role_the_planner_grants(tmp_path, model_file):
    path, digest = model_file
    model = ModelSpec(name="tiny", source=f"file://{path}", sha256=digest, sizeGiB=0.001)
    spec = InferenceServiceSpec.model_validate(
        {"name": "chat", "model": "tiny", "accelerator": {"vendor": "metal"}, "endpoint": {"port": free_port()}}
    )
    planned = plan_metal(SITE, [(spec, model)])
    role = next(m for m in planned if m["kind"] == "Role" and m["metadata"]["name"] == f"{HOST}-metal-agent")
    api = FakeApiServer(token=TOKEN, rules=role["rules"]).start()
    try:
        for m in planned:  # what `pulumi up` applies to the cluster
            if m["kind"] in ("ConfigMap", "Lease", "EndpointSlice"):
                api.put_object(
                    {"ConfigMap": "configmaps", "Lease": "leases", "EndpointSlice": "endpointslices"}[m["kind"]], m
                )
        put_secret(api, "chat-api-key", "api-key", KEY)
        api.put_object(
            "secrets",
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "gw-keys", "namespace": NS},
                "data": {"master": "c2VjcmV0"},
            },
        )
        state = DesiredState.model_validate(
            json.loads(next(m for m in planned if m["kind"] == "ConfigMap")["data"][DESIRED_STATE_KEY])
        )
        from llmkube_iac.agent.config import AgentConfig
        from llmkube_iac.agent.kube import ApiError, Credentials, KubeClient

        from .conftest import FAKE_RUNTIME

        cfg = AgentConfig(
            host=HOST,
            namespace=NS,
            cache_dir=tmp_path / "cache",
            state_dir=tmp_path / "state",
            runtimes={"llama-server": FAKE_RUNTIME},
            metrics_port=None,
            lease_renew_seconds=0.5,
        )
        client = KubeClient(Credentials(server=api.url, token=TOKEN), NS, timeout=2)
        agent, sync = cli.run(cfg, client)
        try:
            wait_for(lambda: slice_ready(api, "chat") is True, timeout=20, what="ready under the planned Role")
            port = state.services[0].port
            reply = requests.post(
                f"http://127.0.0.1:{port}/v1/chat/completions",
                json={},
                headers={"Authorization": f"Bearer {KEY}"},
                timeout=5,
            )
            assert reply.status_code == 200
            assert api.forbidden == []  # nothing the agent needed was refused
            with pytest.raises(ApiError) as denied:  # the same identity may not read the router's Secret
                client.get("secrets", "gw-keys")
            assert denied.value.status == 403
        finally:
            cli.shutdown(agent, sync, timeout=10)
        assert api.get_object("endpointslices", NS, f"chat-{HOST}")["endpoints"] == []  # deregistered, not deleted
        assert api.forbidden == [("get", "secrets", "gw-keys")]  # shutting down needed nothing more either
    finally:
        api.stop()


def test_wildcard_binds_are_refused_by_the_cli_and_flagged_by_the_agent():
    assert exposure.bind_warning("0.0.0.0") and exposure.bind_warning("::") and exposure.bind_warning("")
    assert exposure.bind_warning("10.20.0.11") is None
    args = cli._parser().parse_args(["run", "--host", HOST, "--bind-address", "0.0.0.0"])
    with pytest.raises(SystemExit, match="every interface"):
        cli.config_from_args(args)


def test_a_port_answering_on_another_local_address_is_reported():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    try:
        assert exposure.reachable_on(port, ["127.0.0.1"]) == ["127.0.0.1"]
        # bound where it should be: its own address is not "elsewhere"
        assert exposure.exposure_warning(port, "127.0.0.1", ["127.0.0.1"]) is None
        # the runtime should listen on the host's LAN address only, yet answers on loopback
        warning = exposure.exposure_warning(port, "192.0.2.10", ["127.0.0.1"])
        assert warning and "127.0.0.1" in warning and "firewall" in warning
    finally:
        listener.close()
    assert exposure.reachable_on(port, ["127.0.0.1"]) == []
    assert "127.0.0.1" in exposure.local_addresses()
