"""Prometheus text exposition of the agent's state (scraped per host; the site alerts on heartbeat)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .pressure import CRITICAL, NORMAL, WARN


def render(snap: dict, heartbeat: float, api_up: bool, restarts_by_svc: dict | None = None) -> str:
    host = snap["host"]
    lvl = {"normal": NORMAL, "warn": WARN, "critical": CRITICAL}[snap["pressure"]]
    lines = [
        "# HELP llmkube_metal_agent_heartbeat_timestamp_seconds Wall time of the last successful Lease renewal.",
        "# TYPE llmkube_metal_agent_heartbeat_timestamp_seconds gauge",
        f'llmkube_metal_agent_heartbeat_timestamp_seconds{{host="{host}"}} {heartbeat:.3f}',
        "# TYPE llmkube_metal_agent_api_reachable gauge",
        f'llmkube_metal_agent_api_reachable{{host="{host}"}} {int(api_up)}',
        "# TYPE llmkube_metal_agent_desired_state_valid gauge",
        f'llmkube_metal_agent_desired_state_valid{{host="{host}"}} {int(not snap["error"])}',
        "# TYPE llmkube_metal_agent_managed_processes gauge",
        f'llmkube_metal_agent_managed_processes{{host="{host}"}} '
        f"{sum(1 for s in snap['services'].values() if s['pid'])}",
        "# TYPE llmkube_metal_agent_memory_budget_bytes gauge",
        f'llmkube_metal_agent_memory_budget_bytes{{host="{host}"}} {snap["memoryBudgetBytes"]}',
        "# HELP llmkube_metal_agent_memory_pressure_level 0 normal, 1 warn, 2 critical.",
        "# TYPE llmkube_metal_agent_memory_pressure_level gauge",
        f'llmkube_metal_agent_memory_pressure_level{{host="{host}"}} {lvl}',
        "# TYPE llmkube_metal_agent_evictions_total counter",
        f'llmkube_metal_agent_evictions_total{{host="{host}"}} {snap["evictions"]}',
        "# TYPE llmkube_metal_agent_service_ready gauge",
        "# TYPE llmkube_metal_agent_service_restarts_total counter",
        "# TYPE llmkube_metal_agent_service_memory_estimate_bytes gauge",
    ]
    for name, s in snap["services"].items():
        labels = f'host="{host}",service="{name}"'
        lines.append(f'llmkube_metal_agent_service_ready{{{labels},phase="{s["phase"]}"}} {int(s["ready"])}')
        lines.append(f"llmkube_metal_agent_service_restarts_total{{{labels}}} {s['restarts']}")
        if s["estimateBytes"] is not None:
            lines.append(f"llmkube_metal_agent_service_memory_estimate_bytes{{{labels}}} {s['estimateBytes']}")
    return "\n".join(lines) + "\n"


def serve(address: str, port: int, text) -> ThreadingHTTPServer:
    """Start /metrics on address:port; `text()` renders the current state per scrape."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            if self.path != "/metrics":
                self.send_error(404)
                return
            body = text().encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer((address, port), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd
