"""A loopback HTTP file server with Range support and fault injection, for tests and benchmarks.

Why real HTTP: the fetcher and the remote header reader are exercised through requests/urllib3
exactly as in production; faults (a dropped connection, a truncated body) happen on the wire.
Binds 127.0.0.1 only.
"""

from __future__ import annotations

import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class FileServer:
    """Serves files under `root`. Counters: requests, bytes_sent. Faults: drop_after, truncate_to."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.requests = 0
        self.bytes_sent = 0
        self.drop_after: int | None = None  # close the connection after this many body bytes (once)
        self.truncate_to: int | None = None  # advertise the real size but stop sending here (every time)
        self.ranges: list[str | None] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):  # quiet
                pass

            def do_GET(self):  # noqa: N802
                if self.path == "/__stats__":
                    body = f'{{"requests": {server.requests}, "bytes_sent": {server.bytes_sent}}}'.encode()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                server.requests += 1
                path = server.root / self.path.lstrip("/").split("?")[0]
                if not path.is_file():
                    self.send_error(404)
                    return
                size = path.stat().st_size
                rng = self.headers.get("Range")
                server.ranges.append(rng)
                start, end = 0, size - 1
                if rng and rng.startswith("bytes="):
                    a, _, b = rng[6:].partition("-")
                    start = int(a)
                    end = min(int(b), size - 1) if b else size - 1
                    if start >= size:
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{size}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(end - start + 1))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                self._body(path, start, end)

            def _body(self, path, start, end):
                sent, limit = 0, end - start + 1
                drop = server.drop_after
                with open(path, "rb") as fh:
                    fh.seek(start)
                    while sent < limit:
                        n = min(256 << 10, limit - sent)
                        if drop is not None:
                            n = min(n, drop - sent)
                        if server.truncate_to is not None:
                            n = min(n, server.truncate_to - start - sent)
                        if n <= 0:
                            server.drop_after = None
                            self.close_connection = True
                            self.connection.shutdown(2)
                            return
                        block = fh.read(n)
                        try:
                            self.wfile.write(block)
                        except OSError:
                            return
                        sent += len(block)
                        server.bytes_sent += len(block)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def __enter__(self) -> FileServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def sparse_copy_with_header(header_src: str | Path, out: str | Path, size: int) -> Path:
    """A multi-GB file with a real GGUF header and holes for weights (costs no disk)."""
    out = Path(out)
    with open(header_src, "rb") as src, open(out, "wb") as dst:
        dst.write(src.read(4 << 20))
        dst.truncate(size)
    os.utime(out)
    return out
