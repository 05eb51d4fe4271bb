"""The guard's last check before an upstream call, on its own: what it returns and what it refuses.

Behind the proxy the deployment filter already drops what this hook refuses, so the proxy tests
cannot reach these refusals; here the hook (llmkube_guard.Guard.async_pre_call_deployment_hook) runs
in the pinned LiteLLM venv, with the sovereign zone's ConfigMap files and env as stack.py plans
them and LiteLLM's own Router holding the zone's model list (what the hook reads in the proxy).
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from llmkube_iac.router_hooks.llmkube_policy import CLASS_HEADER, FEDERATED_HEADER

from .harness import deployment_env, litellm_bin, write_configmap
from .stack import PEER_KEY, SECRETS, SITE, plan

pytestmark = pytest.mark.router

SCRIPT = r"""
import asyncio, json, sys, types
sys.path.insert(0, sys.argv[1])
import litellm, yaml
import llmkube_common as common
import llmkube_guard
config = yaml.safe_load(open(sys.argv[1] + "/config.yaml"))
router = litellm.Router(model_list=config["model_list"])
sys.modules["litellm.proxy.proxy_server"] = types.SimpleNamespace(llm_router=router)

async def one(case):
    rec = common.open_call(case["id"], classification=case["cls"], from_site=case["from_site"], team="app")
    held = router.model_list[router.model_id_to_deployment_index_map[case["deployment"]]]
    kwargs = {**held["litellm_params"], "model_info": held["model_info"], "litellm_call_id": case["id"],
              "extra_headers": {"x-llmkube-federated": "spoofed", "x-other": "1"}, "headers": {"x-client": "1"},
              "messages": []}
    try:
        out = await llmkube_guard.guard.async_pre_call_deployment_hook(kwargs, "acompletion")
    except llmkube_guard.FailClosed as exc:
        return {"refused": exc.message, "excluded": rec.get("excluded")}
    if out is None:
        return {"returned": None}
    mine = ("extra_headers", "headers")
    return {"extra_headers": out.get("extra_headers"), "headers": out.get("headers"),
            "same_otherwise": {k: v for k, v in out.items() if k not in mine}
            == {k: v for k, v in kwargs.items() if k not in mine},
            "to_site": rec.get("to_site"), "locality": rec.get("locality")}

async def main():
    return [await one(c) for c in json.loads(sys.argv[2])]

print("RESULT " + json.dumps(asyncio.run(main())))
"""
CASES = {
    "peer, confidential": ("chat-peer.peer", "confidential", None),
    "peer, public": ("chat-peer.peer", "public", None),
    "peer, federated": ("chat-peer.peer", "confidential", "edge"),
    "peer, restricted": ("chat-peer.peer", "restricted", None),
    "local, federated": ("chat.local-a", "confidential", "edge"),
    "local": ("chat.local-a", "restricted", None),
}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    manifests = plan()
    cm = next(m for m in manifests if m["kind"] == "ConfigMap" and m["metadata"]["name"] == "gw-config")
    dep = next(m for m in manifests if m["kind"] == "Deployment" and m["metadata"]["name"] == "gw")
    directory = tmp_path_factory.mktemp("guard")
    write_configmap(cm, directory)
    urls = {f"LLMKUBE_UPSTREAM_{b}": f"http://127.0.0.1:9/{b.lower()}/v1" for b in ("LOCAL_A", "LOCAL_B")}
    urls |= {
        f"LLMKUBE_UPSTREAM_{b}": f"https://127.0.0.1:9/{b.lower()}/v1" for b in ("PEER", "ROGUE", "HQ", "HQ_BROKEN")
    }
    env = {**deployment_env(dep, urls, SECRETS), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    env.pop("LLMKUBE_METRICS_PORT")  # no metrics endpoint: nothing here listens
    cases = [
        {"id": f"call-{i}", "deployment": d, "cls": c, "from_site": f} for i, (d, c, f) in enumerate(CASES.values())
    ]
    python = litellm_bin().parent / "python"
    proc = subprocess.run(
        [str(python), "-c", SCRIPT, str(directory), json.dumps(cases)],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stdout[-2000:] + proc.stderr[-4000:]
    return dict(zip(CASES, json.loads(lines[-1][len("RESULT ") :]), strict=True))


def test_a_peer_call_carries_exactly_the_class_and_this_site(results):
    for name, cls in (("peer, confidential", "confidential"), ("peer, public", "public")):
        got = results[name]
        assert got["extra_headers"] == {CLASS_HEADER: cls, FEDERATED_HEADER: SITE}, got  # the caller's are gone
        assert got["headers"] is None, got  # no forwarded client headers either
        assert got["same_otherwise"] and got["to_site"] == "dc" and got["locality"] == "peer", got


def test_a_federated_request_is_refused_for_a_peer_but_not_for_a_local_deployment(results):
    assert "federated from site edge" in results["peer, federated"]["refused"], results["peer, federated"]
    assert results["peer, federated"]["excluded"] is True
    assert results["local, federated"] == {"returned": None}


def test_the_peer_ceiling_and_local_calls(results):
    assert "not cleared for restricted" in results["peer, restricted"]["refused"]
    assert results["local"] == {"returned": None}  # local calls get no headers of ours
    assert PEER_KEY not in json.dumps(results)
