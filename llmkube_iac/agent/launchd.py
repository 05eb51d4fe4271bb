"""The launchd job that keeps the agent itself running on a Mac (launchd supervises the supervisor)."""

from __future__ import annotations

import plistlib

LABEL = "dev.llmkube.metal-agent"


def plist(
    program: list[str],
    log_dir: str = "/usr/local/var/log/llmkube",
    throttle_seconds: int = 10,
    label: str = LABEL,
    env: dict[str, str] | None = None,
) -> str:
    """KeepAlive restarts the agent whenever it exits; ThrottleInterval stops a tight crash loop."""
    job = {
        "Label": label,
        "ProgramArguments": program,
        "RunAtLoad": True,
        "KeepAlive": True,
        "ThrottleInterval": throttle_seconds,
        "ProcessType": "Interactive",  # inference is latency-sensitive: no App Nap / background throttling
        "ExitTimeOut": 30,  # SIGTERM grace before SIGKILL: time to stop runtimes and deregister
        "StandardOutPath": f"{log_dir}/metal-agent.log",
        "StandardErrorPath": f"{log_dir}/metal-agent.log",
        "SoftResourceLimits": {"NumberOfFiles": 4096},
    }
    if env:
        job["EnvironmentVariables"] = env
    return plistlib.dumps(job, sort_keys=False).decode()
