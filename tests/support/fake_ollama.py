"""A stand-in for the `ollama` CLI (no Ollama here): `serve` answers the HTTP routes the agent and the
wrapper use, `list` probes the server, `create NAME -f Modelfile` registers a model from its FROM path."""

import json
import os
import sys
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HOST = os.environ["OLLAMA_HOST"]
STATE = Path(os.environ["FAKE_OLLAMA_STATE"])


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802
        if self.path == "/api/tags":
            return self._send(200, {"models": [{"name": p.name} for p in STATE.iterdir()]})
        if self.path.startswith("/v1/models/") and (STATE / self.path.rsplit("/", 1)[1]).is_file():
            return self._send(200, {"id": self.path.rsplit("/", 1)[1], "object": "model"})
        self._send(404, {"error": "not found"})

    def _send(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main(argv):
    STATE.mkdir(parents=True, exist_ok=True)
    if argv[0] == "serve":
        host, port = HOST.rsplit(":", 1)
        ThreadingHTTPServer((host, int(port)), Handler).serve_forever()
    if argv[0] == "list":
        try:
            urllib.request.urlopen(f"http://{HOST}/api/tags", timeout=1)
        except OSError:
            return 1
        return 0
    if argv[0] == "create":
        name, modelfile = argv[1], argv[argv.index("-f") + 1]
        source = Path(modelfile).read_text().split("FROM ", 1)[1].strip()
        if not Path(source).is_file():
            print(f"Error: {source} does not exist", file=sys.stderr)
            return 1
        (STATE / name).write_text(source)
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
