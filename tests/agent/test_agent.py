"""The agent end to end: real child processes, the real client, a fake API server on loopback."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest
import requests

from .conftest import GIB, HOST, NS, lease_status, slice_ready, status, svc_state, wait_for, write_desired


def test_start_registers_ready_endpoint_and_status(api, start_agent, model_file):
    svc = svc_state("chat", model_file)
    write_desired(api, [svc])
    agent, _ = start_agent()
    wait_for(lambda: slice_ready(api, "chat") is True, what="ready EndpointSlice")
    es = api.get_object("endpointslices", NS, f"chat-{HOST}")
    assert es["metadata"]["labels"]["kubernetes.io/service-name"] == "chat"
    assert es["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"] == "llmkube-metal-agent"
    assert es["endpoints"][0]["addresses"] == ["127.0.0.1"] and es["ports"][0]["port"] == svc.port
    reply = requests.post(f"http://127.0.0.1:{svc.port}/v1/chat/completions", json={"messages": []}, timeout=5)
    assert reply.json()["model"] == "chat"
    wait_for(lambda: lease_status(api).get("services", {}).get("chat", {}).get("phase") == "Ready", what="status")
    lease = api.get_object("leases", NS, f"{HOST}-metal-agent")
    assert lease["spec"]["holderIdentity"] == f"llmkube-metal-agent/{HOST}" and lease["spec"]["renewTime"]
    assert (agent.cfg.cache_dir / "chat/x/tiny.gguf").exists()  # fetched into the cache, hash verified


def test_agent_only_updates_the_slice_pulumi_created(api, start_agent, model_file):
    """The agent never creates or deletes slices; labels and annotations Pulumi set are kept."""
    write_desired(api, [svc_state("chat", model_file)])
    start_agent()
    wait_for(lambda: slice_ready(api, "chat") is True, what="ready EndpointSlice")
    es = api.get_object("endpointslices", NS, f"chat-{HOST}")
    assert es["metadata"]["annotations"] == {"pulumi.com/patchForce": "true"}
    assert es["metadata"]["labels"]["app.kubernetes.io/part-of"] == "llmkube"
    assert not [r for r in api.requests if r[0] in ("POST", "DELETE") and "endpointslices" in r[1]]


def test_a_missing_slice_is_reported_and_filled_once_pulumi_creates_it(api, start_agent, model_file):
    write_desired(api, [svc_state("chat", model_file)])
    planned = api.get_object("endpointslices", NS, f"chat-{HOST}")
    with api.cond:  # as if `pulumi up` had not created it yet
        api.objects.pop(("endpointslices", NS, f"chat-{HOST}"))
    start_agent(slice_resync_seconds=0.3)
    wait_for(
        lambda: [e for e in api.list_objects("events", NS) if e["reason"] == "EndpointSliceMissing"],
        what="missing slice reported",
    )
    assert api.get_object("endpointslices", NS, f"chat-{HOST}") is None  # the agent cannot create it
    del planned["metadata"]["resourceVersion"]
    api.put_object("endpointslices", planned)
    wait_for(lambda: slice_ready(api, "chat") is True, what="filled at the next resync")


def test_ollama_is_served_after_registering_the_fetched_model(api, start_agent, model_file, tmp_path, monkeypatch):
    """Ollama serves only models it has created: the registry's wrapper registers the fetched GGUF first."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "ollama"
    fake.write_text(f"#!{sys.executable}\n" + (Path(__file__).parents[1] / "support" / "fake_ollama.py").read_text())
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_OLLAMA_STATE", str(tmp_path / "ollama-models"))
    base = svc_state("chat", model_file)
    state = base.model_copy(update={"runtime": "ollama", "args": ("{model}", "chat"), "health_path": "/v1/models/chat"})
    write_desired(api, [state])
    start_agent()  # no override for ollama: the runtime registry's native command and environment
    wait_for(lambda: slice_ready(api, "chat") is True, what="ready EndpointSlice for the ollama service")
    registered = (tmp_path / "ollama-models" / "chat").read_text()
    assert registered.endswith("chat/x/tiny.gguf")  # the fetched, verified copy in the agent's cache


def test_kill_9_marks_unready_and_restarts(api, start_agent, model_file):
    """Behaviour only: the latency targets (unready <= 1 s, restart <= 2 s) are measured by
    benchmarks/agent_latency.py, where a loaded CI machine cannot make them flaky."""
    write_desired(api, [svc_state("chat", model_file)])
    agent, _ = start_agent()
    wait_for(lambda: slice_ready(api, "chat") is True, what="ready")
    pid = status(agent, "chat")["pid"]
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: slice_ready(api, "chat") is False, timeout=10.0, interval=0.005, what="unready")
    wait_for(lambda: status(agent, "chat").get("pid") not in (None, pid), timeout=10.0, what="restarted")
    wait_for(lambda: slice_ready(api, "chat") is True, what="ready again")
    assert status(agent, "chat")["restarts"] == 1


def test_crash_loop_backs_off_and_reports(api, start_agent, model_file):
    write_desired(api, [svc_state("flaky", model_file, extra=("--fail-on-start",))])
    agent, _ = start_agent(crashloop_restarts=3)
    st = wait_for(
        lambda: (
            lease_status(api).get("services", {}).get("flaky", {}).get("phase") == "CrashLoopBackOff"
            and lease_status(api)["services"]["flaky"]
        ),
        timeout=10,
        what="CrashLoopBackOff in status",
    )
    assert "exited with code 3" in st["reason"] and "failing on start" in st["reason"]
    first = status(agent, "flaky")["restarts"]
    time.sleep(1.0)  # backoff doubles (0.2, 0.4, 0.8, 1.6 s): only a few restarts, not a tight loop
    assert status(agent, "flaky")["restarts"] <= first + 2
    events = [e for e in api.list_objects("events", NS) if e["reason"] == "CrashLoopBackOff"]
    assert events and events[0]["involvedObject"]["name"] == "flaky"
    assert slice_ready(api, "flaky") is False


@pytest.mark.parametrize("outage_seconds", [3, pytest.param(30, marks=pytest.mark.agent_outage)])
def test_api_outage_keeps_runtimes_and_reconciles_after(api, start_agent, model_file, outage_seconds):
    a, b = svc_state("a", model_file), svc_state("b", model_file)
    write_desired(api, [a])
    agent, sync = start_agent()
    wait_for(lambda: slice_ready(api, "a") is True, what="a ready")
    pid = status(agent, "a")["pid"]
    api.stop()
    outage_end = time.monotonic() + outage_seconds
    while time.monotonic() < outage_end:  # the runtime keeps serving throughout
        assert requests.get(f"http://127.0.0.1:{a.port}/health", timeout=2).status_code == 200
        time.sleep(0.2)
    assert status(agent, "a")["pid"] == pid and not sync.api_up
    os.kill(pid, signal.SIGKILL)  # a change during the outage is published once the server is back
    write_desired(api, [a, b])  # and a desired-state change made during the outage is picked up
    api.start()
    wait_for(lambda: slice_ready(api, "b") is True, timeout=15, what="b registered after the outage")
    wait_for(lambda: slice_ready(api, "a") is True, timeout=10, what="a ready again")
    assert status(agent, "a")["pid"] != pid


def test_desired_change_respawns_only_changed_service(api, start_agent, model_file):
    a, b = svc_state("a", model_file), svc_state("b", model_file)
    write_desired(api, [a, b])
    agent, _ = start_agent()
    wait_for(lambda: slice_ready(api, "a") and slice_ready(api, "b"), what="both ready")
    pa, pb = status(agent, "a")["pid"], status(agent, "b")["pid"]
    b2 = b.model_copy(update={"args": b.args + ("--ctx-size", "4096")})
    write_desired(api, [a, b2])
    wait_for(
        lambda: status(agent, "b").get("pid") not in (None, pb) and status(agent, "b")["phase"] == "Ready",
        what="b respawned",
    )
    assert status(agent, "a")["pid"] == pa
    write_desired(api, [b2])  # a disappears: process stopped, its slice emptied (Pulumi deletes it)
    wait_for(lambda: api.get_object("endpointslices", NS, f"a-{HOST}")["endpoints"] == [], what="a's slice emptied")
    wait_for(lambda: _gone(pa), what="a's process stopped")
    assert status(agent, "b")["pid"] != pb and "a" not in agent.snapshot()["services"]


def test_memory_preflight_refuses_with_reason(api, start_agent, model_file):
    big = svc_state("big", model_file, estimate=40 * GIB)
    small = svc_state("small", model_file, estimate=30 * GIB, priority=3)
    write_desired(api, [small], budget=48 * GIB)
    agent, _ = start_agent()
    wait_for(lambda: status(agent, "small").get("phase") == "Ready", what="small ready")
    write_desired(api, [small, big], budget=48 * GIB)
    st = wait_for(
        lambda: (
            lease_status(api).get("services", {}).get("big", {}).get("phase") == "Refused"
            and lease_status(api)["services"]["big"]
        ),
        what="big refused",
    )
    assert "needs 40.00 GiB" in st["reason"] and "small 30.0 GiB" in st["reason"]
    assert status(agent, "big")["pid"] is None and slice_ready(api, "big") is False
    assert [e for e in api.list_objects("events", NS) if e["reason"] == "InsufficientMemory"]


def test_eviction_under_pressure_lowest_priority_never_last(api, start_agent, model_file, tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal: 1000000 kB\nMemAvailable: 600000 kB\n")
    hi, lo = svc_state("hi", model_file, priority=4), svc_state("lo", model_file, priority=0)
    write_desired(api, [hi, lo])
    agent, _ = start_agent(meminfo=str(meminfo))
    wait_for(lambda: slice_ready(api, "hi") and slice_ready(api, "lo"), what="both ready")
    pid_hi, pid_lo = status(agent, "hi")["pid"], status(agent, "lo")["pid"]
    meminfo.write_text("MemTotal: 1000000 kB\nMemAvailable: 20000 kB\n")  # critical
    wait_for(lambda: status(agent, "lo")["phase"] == "Evicted" and _gone(pid_lo), what="lo evicted")
    wait_for(lambda: slice_ready(api, "lo") is False, timeout=2, what="lo out of rotation")
    time.sleep(1.0)  # still critical: the last runtime is never evicted, lo is not respawned
    assert status(agent, "hi")["pid"] == pid_hi and status(agent, "lo")["pid"] is None
    assert agent.snapshot()["evictions"] == 1 and agent.snapshot()["pressure"] == "critical"
    meminfo.write_text("MemTotal: 1000000 kB\nMemAvailable: 600000 kB\n")
    wait_for(lambda: slice_ready(api, "lo") is True, what="lo back after pressure cleared")


def test_malformed_desired_state_reports_error_and_kills_nothing(api, start_agent, model_file):
    write_desired(api, [svc_state("chat", model_file)])
    agent, _ = start_agent()
    wait_for(lambda: slice_ready(api, "chat") is True, what="ready")
    pid = status(agent, "chat")["pid"]
    write_desired(api, [], raw='{"host": "studio-1", "services": [{"name": "Bad Name"}]}')
    st = wait_for(lambda: lease_status(api).get("error"), what="status error")
    assert "invalid desired state" in st and "nothing changed" in st
    assert status(agent, "chat")["pid"] == pid and slice_ready(api, "chat") is True
    write_desired(api, [], raw="not json at all")
    wait_for(lambda: "invalid desired state" in (lease_status(api).get("error") or ""), what="json error")
    assert status(agent, "chat")["pid"] == pid


def test_wrong_model_hash_is_never_started(api, start_agent, model_file):
    write_desired(api, [svc_state("bad", model_file, sha256="0" * 64)])
    agent, _ = start_agent()
    st = wait_for(
        lambda: (
            lease_status(api).get("services", {}).get("bad", {}).get("phase") == "Failed"
            and lease_status(api)["services"]["bad"]
        ),
        what="failed status",
    )
    assert "sha256 mismatch" in st["reason"]
    assert status(agent, "bad")["pid"] is None and status(agent, "bad")["restarts"] == 0
    assert not (agent.cfg.state_dir / "logs" / "bad.log").exists()  # no process was ever spawned


def test_sigterm_path_stops_children_and_deregisters(api, start_agent, model_file):
    from llmkube_iac.agent import cli

    write_desired(api, [svc_state("chat", model_file)])
    agent, sync = start_agent()
    wait_for(lambda: slice_ready(api, "chat") is True, what="ready")
    pid = status(agent, "chat")["pid"]
    cli.shutdown(agent, sync, timeout=10)
    assert _gone(pid)
    assert api.get_object("endpointslices", NS, f"chat-{HOST}")["endpoints"] == []
    assert lease_status(api)["services"]["chat"]["phase"] == "Stopped"


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:  # a zombie not yet reaped by the agent still counts as gone
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


def test_mlx_lm_runs_with_the_registry_environment_under_a_host_command_override(api, start_agent, model_file):
    """The host overrides only mlx-lm's command; the registry's environment (hub offline) still reaches it."""
    from tests.support import fake_runtime

    check_env = 'test "$HF_HUB_OFFLINE" = 1 || { echo "hub not offline" >&2; exit 4; }; exec "$0" "$@"'
    state = svc_state("chat", model_file).model_copy(
        update={"runtime": "mlx-lm", "args": ("--model", "{model}", "--host", "{host}", "--port", "{port}")}
    )
    write_desired(api, [state])
    agent, _ = start_agent(runtimes={"mlx-lm": ["/bin/sh", "-c", check_env, sys.executable, fake_runtime.__file__]})
    wait_for(lambda: slice_ready(api, "chat") is True, what="ready EndpointSlice for the mlx-lm service")
    assert "size-based estimate" in agent.services["chat"].estimate.detail  # mlx-lm's memory model
