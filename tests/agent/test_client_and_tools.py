"""The agent's API client against the fake server, its metrics, and its launchd job."""

from __future__ import annotations

import json
import plistlib
import subprocess
import sys

import pytest
import requests

from llmkube_iac.agent import cli, metrics
from llmkube_iac.agent.kube import ApiError, Credentials, KubeClient, load_kubeconfig
from llmkube_iac.agent.pressure import CRITICAL, NORMAL, WARN, level_from_free, meminfo_level

from .conftest import HOST, NS, TOKEN, free_port, lease_status, slice_ready, svc_state, wait_for, write_desired


def _kubeconfig(tmp_path, server, **user):
    cfg = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "studio",
        "clusters": [{"name": "c", "cluster": {"server": server}}],
        "contexts": [{"name": "studio", "context": {"cluster": "c", "user": "u"}}],
        "users": [{"name": "u", "user": user}],
    }
    path = tmp_path / "kubeconfig.json"
    path.write_text(json.dumps(cfg))
    return str(path)


def test_kubeconfig_token_and_token_file_authenticate(api, tmp_path):
    client = KubeClient(load_kubeconfig(_kubeconfig(tmp_path, api.url, token=TOKEN)), NS)
    created = client.create("configmaps", {"metadata": {"name": "x"}, "data": {"a": "1"}})
    assert created["metadata"]["resourceVersion"]
    token_file = tmp_path / "token"
    token_file.write_text("wrong\n")
    rotating = KubeClient(Credentials(server=api.url, token_file=str(token_file)), NS)
    with pytest.raises(ApiError) as err:
        rotating.get("configmaps", "x")
    assert err.value.status == 401
    token_file.write_text(TOKEN + "\n")  # rotated on disk: re-read on the next request
    assert rotating.get("configmaps", "x")["data"] == {"a": "1"}


def test_kubeconfig_yaml_and_client_certificate_are_read(tmp_path):
    import base64

    path = tmp_path / "kubeconfig"
    b64 = base64.b64encode(b"PEM").decode()
    path.write_text(f"""apiVersion: v1
current-context: s
clusters: [{{name: c, cluster: {{server: "https://127.0.0.1:6443/", certificate-authority-data: {b64}}}}}]
contexts: [{{name: s, context: {{cluster: c, user: u}}}}]
users: [{{name: u, user: {{client-certificate-data: {b64}, client-key-data: {b64}}}}}]
""")
    creds = load_kubeconfig(str(path))
    assert creds.server == "https://127.0.0.1:6443" and creds.token is None
    assert open(creds.cert[0], "rb").read() == b"PEM" and open(str(creds.verify), "rb").read() == b"PEM"
    with pytest.raises(SystemExit, match="context 'nope' not found"):
        load_kubeconfig(str(path), "nope")


def test_conflicts_are_409_and_watch_streams_changes(api):
    client = KubeClient(Credentials(server=api.url, token=TOKEN), NS)
    cm = client.create("configmaps", {"metadata": {"name": "w"}, "data": {"v": "1"}})
    with pytest.raises(ApiError) as err:
        client.create("configmaps", {"metadata": {"name": "w"}})
    assert err.value.status == 409
    stale = json.loads(json.dumps(cm))
    cm["data"] = {"v": "2"}
    client.replace("configmaps", cm)
    stale["data"] = {"v": "lost update"}
    with pytest.raises(ApiError) as err:
        client.replace("configmaps", stale)
    assert err.value.status == 409
    events = client.watch("configmaps", "w", cm["metadata"]["resourceVersion"], timeout_seconds=2)
    first = next(events)
    assert first["type"] == "MODIFIED" and first["object"]["data"] == {"v": "2"}


def test_lease_conflict_from_another_writer_is_recovered(api, start_agent, model_file):
    write_desired(api, [svc_state("chat", model_file)])
    agent, sync = start_agent()
    wait_for(lambda: lease_status(api).get("services", {}).get("chat", {}).get("phase") == "Ready", what="ready")
    lease = api.get_object("leases", NS, f"{HOST}-metal-agent")
    lease["metadata"]["labels"] = {"touched": "by-admin"}
    api.put_object("leases", lease)  # the agent's cached resourceVersion is now stale: its next PUT gets a 409
    before = sync.heartbeat
    wait_for(lambda: sync.heartbeat > before, timeout=5, what="renewal after a 409")
    assert api.get_object("leases", NS, f"{HOST}-metal-agent")["metadata"]["labels"] == {"touched": "by-admin"}


def test_watch_refused_falls_back_to_polling(api, start_agent, model_file, monkeypatch):
    def refuse(self, *a, **kw):
        raise ApiError(405, "watch not allowed")
        yield  # pragma: no cover

    monkeypatch.setattr(KubeClient, "watch", refuse)
    a = svc_state("a", model_file)
    write_desired(api, [])
    agent, _ = start_agent(poll_seconds=0.3)
    write_desired(api, [a])
    wait_for(lambda: slice_ready(api, "a") is True, timeout=10, what="picked up by polling")


def test_metrics_endpoint(api, start_agent, model_file):
    port = free_port()
    write_desired(api, [svc_state("chat", model_file)])
    agent, _ = start_agent(metrics_port=port)
    wait_for(lambda: slice_ready(api, "chat") is True, what="ready")
    text = wait_for(
        lambda: (
            (t := requests.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text)
            and 'heartbeat_timestamp_seconds{host="studio-1"} 0.000' not in t
            and t
        ),
        what="heartbeat",
    )
    for needle in (
        'llmkube_metal_agent_managed_processes{host="studio-1"} 1',
        'llmkube_metal_agent_service_ready{host="studio-1",service="chat",phase="Ready"} 1',
        'llmkube_metal_agent_service_restarts_total{host="studio-1",service="chat"} 0',
        'llmkube_metal_agent_memory_pressure_level{host="studio-1"}',
        'llmkube_metal_agent_evictions_total{host="studio-1"} 0',
        'llmkube_metal_agent_memory_budget_bytes{host="studio-1"} 68719476736',
        'llmkube_metal_agent_service_memory_estimate_bytes{host="studio-1",service="chat"}',
    ):
        assert needle in text, needle
    assert metrics.render(agent.snapshot(), 0, False).count("\n") > 10


def test_pressure_levels(tmp_path):
    assert [level_from_free(f) for f in (0.5, 0.1, 0.01)] == [NORMAL, WARN, CRITICAL]
    path = tmp_path / "meminfo"
    path.write_text("MemTotal:  100 kB\nMemFree: 1 kB\nMemAvailable: 5 kB\n")
    assert meminfo_level(path) == CRITICAL
    path.write_text("nothing useful\n")
    with pytest.raises(ValueError, match="MemTotal"):
        meminfo_level(path)


def test_print_launchd_emits_a_keepalive_plist():
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "llmkube_iac.agent.cli",
            "print-launchd",
            "--host",
            HOST,
            "--kubeconfig",
            "/etc/llmkube/kubeconfig",
            "--program",
            "/opt/llmkube/bin/llmkube-metal-agent",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    job = plistlib.loads(out.encode())
    assert job["KeepAlive"] is True and job["ThrottleInterval"] >= 5 and job["RunAtLoad"] is True
    assert job["ProgramArguments"] == [
        "/opt/llmkube/bin/llmkube-metal-agent",
        "run",
        "--host",
        HOST,
        "--kubeconfig",
        "/etc/llmkube/kubeconfig",
    ]


def test_cli_refuses_missing_credentials_and_bad_runtime():
    with pytest.raises(SystemExit, match="--kubeconfig"):
        cli.credentials_from_args(cli._parser().parse_args(["run", "--host", HOST]))
    with pytest.raises(SystemExit, match="NAME=COMMAND"):
        cli.config_from_args(cli._parser().parse_args(["run", "--host", HOST, "--runtime", "vllm=/bin/x"]))


def _config(*runtime_flags):
    argv = ["run", "--host", HOST]
    for flag in runtime_flags:
        argv += ["--runtime", flag]
    return cli.config_from_args(cli._parser().parse_args(argv))


def test_runtime_overrides_key_on_native_names_from_the_registry():
    from llmkube_iac.runtimes import native_runtimes

    cfg = _config("mlx-lm=/opt/mlx/bin/mlx_lm.server --log-level DEBUG")
    assert cfg.command("mlx-lm") == ["/opt/mlx/bin/mlx_lm.server", "--log-level", "DEBUG"]
    for name, rt in native_runtimes().items():  # the rest: the registry's commands
        if name != "mlx-lm":
            assert cfg.command(name) == list(rt.native.command)
    assert cfg.command("ollama")[:2] == ["/bin/sh", "-c"]  # the registry's one Ollama wrapper
    valid = ", ".join(native_runtimes())
    for bad in ("llamacpp=/bin/x", "mlx-lm=", "llama-server=/a 'b"):  # a registry name, no command, bad quoting
        with pytest.raises(SystemExit) as err:
            _config(bad)
        assert repr(bad) in str(err.value)
    with pytest.raises(SystemExit, match=f"NAME one of {valid}"):
        _config("llamacpp=/bin/x")


def test_desired_state_names_a_native_runtime_from_the_registry(model_file):
    from pydantic import ValidationError

    from llmkube_iac.runtimes import native_runtimes
    from llmkube_iac.spec.metal import MetalServiceState

    wire = svc_state("chat", model_file).to_config()
    assert MetalServiceState.model_validate(wire).runtime == "llama-server"
    valid = ", ".join(native_runtimes())
    with pytest.raises(ValidationError, match=f"unknown native runtime 'llamacpp'; valid: {valid}"):
        MetalServiceState.model_validate({**wire, "runtime": "llamacpp"})  # a registry name, not a process name
