"""What the loopback stand-ins share: a free port, and a quiet JSON request handler without
Nagle delays (the real servers set TCP_NODELAY; without it every reply gains ~40 ms). Not named
http.py: fake_runtime.py runs as a script from this directory and would shadow the stdlib."""

from __future__ import annotations

import json
import socket
from http.server import BaseHTTPRequestHandler


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JsonHandler(BaseHTTPRequestHandler):
    disable_nagle_algorithm = True

    def log_message(self, *args) -> None:  # quiet
        pass

    def send_json(self, code: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
