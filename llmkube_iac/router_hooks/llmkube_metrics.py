"""Prometheus metrics of the Router, counted from the audit lines (one per request).

Why our own: LiteLLM's Prometheus callback only sees calls that reach its LLM path, without the
zone, the data class or the refusals the front answers itself; the audit line holds all of that,
one per request. Stdlib only: a daemon thread serves the text exposition format on
LLMKUBE_METRICS_PORT (the PodMonitor's `metrics` port; the proxy port serves no /metrics). The
proxy runs one worker per pod, so one process holds the pod's counters.
"""
from __future__ import annotations

import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_LOCK = threading.Lock()
_COUNTERS: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
HELP = {
    "llmkube_router_requests_total": "Requests by zone, team, class, model group, backend and outcome",
    "llmkube_router_tokens_total": "Tokens by zone, team, model group, backend and kind (prompt|completion)",
    "llmkube_router_cost_dollars_total": "Spend by zone, team, model group and backend (LiteLLM's cost map)",
    "llmkube_router_request_seconds": "Request latency by zone, model group and outcome",
}
_started = False


def _add(name: str, labels: dict, value: float) -> None:
    key = (name, tuple(sorted((k, "" if v is None else str(v)) for k, v in labels.items())))
    _COUNTERS[key] = _COUNTERS.get(key, 0.0) + value


def observe(fields: dict) -> None:
    """Count one audited request."""
    base = {"zone": fields.get("zone"), "team": fields.get("team"), "model_group": fields.get("model_group")}
    with _LOCK:
        _add("llmkube_router_requests_total", {**base, "classification": fields.get("classification"),
                                                "backend": fields.get("backend"), "outcome": fields.get("outcome")}, 1)
        for kind in ("prompt", "completion"):
            tokens = fields.get(f"{kind}_tokens")
            if isinstance(tokens, (int, float)) and tokens:
                _add("llmkube_router_tokens_total", {**base, "backend": fields.get("backend"), "kind": kind}, tokens)
        cost = fields.get("cost")
        if isinstance(cost, (int, float)) and cost:
            _add("llmkube_router_cost_dollars_total", {**base, "backend": fields.get("backend")}, cost)
        latency = fields.get("latency_ms")
        if isinstance(latency, (int, float)):
            seconds = latency / 1000
            lat = {"zone": base["zone"], "model_group": base["model_group"], "outcome": fields.get("outcome")}
            for bound in BUCKETS:
                if seconds <= bound:
                    # "10.0", not "10": the form Prometheus 3 stores `le` in, so 2.x stores the same
                    _add("llmkube_router_request_seconds_bucket", {**lat, "le": str(float(bound))}, 1)
            _add("llmkube_router_request_seconds_bucket", {**lat, "le": "+Inf"}, 1)
            _add("llmkube_router_request_seconds_sum", lat, seconds)
            _add("llmkube_router_request_seconds_count", lat, 1)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def render() -> str:
    """The text exposition format (cumulative buckets: each observation counted in every le >= it)."""
    with _LOCK:
        items = sorted(_COUNTERS.items())
    lines, seen = [], set()
    for (name, labels), value in items:
        family = name.removesuffix("_bucket").removesuffix("_sum").removesuffix("_count")
        if family not in seen:
            seen.add(family)
            kind = "histogram" if family == "llmkube_router_request_seconds" else "counter"
            lines += [f"# HELP {family} {HELP.get(family, family)}", f"# TYPE {family} {kind}"]
        text = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
        lines.append(f"{name}{{{text}}} {value:g}")
    return "\n".join(lines) + "\n"


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        if self.path.split("?")[0] != "/metrics":
            self.send_error(404)
            return
        body = render().encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # quiet: scrapes are not audit events
        pass


def serve() -> None:
    """Start the metrics endpoint once per process (no-op without LLMKUBE_METRICS_PORT)."""
    global _started
    port = os.environ.get("LLMKUBE_METRICS_PORT")
    with _LOCK:
        if _started or not port:
            return
        _started = True
    server = ThreadingHTTPServer(("0.0.0.0", int(port)), _Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="llmkube-metrics", daemon=True).start()
