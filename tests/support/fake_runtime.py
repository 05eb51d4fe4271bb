"""A tiny OpenAI-compatible server standing in for llama-server as a real child process.

Accepts llama-server's flags (unknown ones ignored; --api-key-file is enforced). Test knobs: --load-seconds (time before
/health answers 200), --exit-after (seconds, then exit 1), --fail-on-start (exit 3 at once).
"""

from __future__ import annotations

import argparse
import sys
import time
from http.server import ThreadingHTTPServer
from pathlib import Path

if __package__ in (None, ""):  # started as a script by the agent under test: make `tests` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.support.loopback import JsonHandler  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="fake")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--alias", default=None)
    p.add_argument("--load-seconds", type=float, default=0.0)
    p.add_argument("--exit-after", type=float, default=None)
    p.add_argument("--fail-on-start", action="store_true")
    p.add_argument("--api-key-file", default=None)
    args, _ = p.parse_known_args(argv)
    keys = []
    if args.api_key_file:  # like llama-server: one key per line, every route but /health demands one
        keys = [k for k in open(args.api_key_file).read().splitlines() if k]
    if args.fail_on_start:
        print("fake-runtime: failing on start as asked", file=sys.stderr)
        return 3
    ready_at = time.monotonic() + args.load_seconds
    name = args.alias or args.model

    class Handler(JsonHandler):
        def _refused(self) -> bool:
            if keys and self.headers.get("Authorization", "") not in [f"Bearer {k}" for k in keys]:
                self.send_json(401, {"error": {"code": 401, "message": "Invalid API Key"}})
                return True
            return False

        def do_GET(self):
            if self.path != "/health" and self._refused():
                return None
            if self.path == "/health":
                loading = time.monotonic() < ready_at
                return self.send_json(503 if loading else 200, {"status": "loading model" if loading else "ok"})
            if self.path == "/v1/models":
                return self.send_json(200, {"object": "list", "data": [{"id": name, "object": "model"}]})
            self.send_json(404, {"error": "not found"})

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self._refused():
                return None
            if self.path != "/v1/chat/completions":
                return self.send_json(404, {"error": "not found"})
            self.send_json(
                200,
                {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion",
                    "model": name,
                    "choices": [
                        {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
                    ],
                },
            )

    httpd = ThreadingHTTPServer((args.host, args.port), Handler)
    if args.exit_after is not None:
        import threading

        threading.Timer(args.exit_after, lambda: __import__("os")._exit(1)).start()
    httpd.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
