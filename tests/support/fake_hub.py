"""A loopback stand-in for a site's Hugging Face mirror, speaking the routes huggingface_hub uses.

Why a fake: the Hub cannot run here. It answers what `HfApi.model_info` asks
(`GET /api/models/{repo}[/revision/{quote(rev, safe='')}]` -> JSON with `id` and `sha`; unknown repo or
revision -> 404 with `X-Error-Code` RepoNotFound / RevisionNotFound, as the Hub does) and what
`hf_hub_download` fetches (`GET /{repo}/resolve/{rev}/{file}`, Range supported, `X-Repo-Commit`). The
real client is run against it in the tests, so the protocol is checked, not assumed. Faults: a delay,
a drip-fed body, a redirect elsewhere, a malformed `sha`, an oversized body. Binds 127.0.0.1 only.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit


class FakeHub:
    """Repos with refs (branch/tag -> commit) and files per commit; every request path is recorded."""

    def __init__(self):
        self.refs: dict[str, dict[str, str]] = {}  # repo -> {ref: commit}
        self.commits: dict[str, set[str]] = {}  # repo -> every commit pushed (old ones stay fetchable)
        self.files: dict[tuple[str, str, str], bytes] = {}  # (repo, commit, filename) -> bytes
        self.requests: list[str] = []  # raw request paths (with query)
        self.headers: list[dict] = []
        self.delay = 0.0  # seconds before answering
        self.drip: float | None = None  # seconds between body bytes
        self.redirects: list[str] = []  # answer the next model-info requests with a 302 to these, in turn
        self.sha_override: object = None  # answer this instead of the commit (a malformed mirror)
        self.pad_body = 0  # extra bytes in the model-info answer
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *a):  # quiet
                pass

            def do_GET(self):  # noqa: N802
                hub.requests.append(self.path)
                hub.headers.append(dict(self.headers))
                if hub.delay:
                    time.sleep(hub.delay)
                parts = urlsplit(self.path)
                segs = parts.path.split("/")[1:]  # still quoted: a quoted '/' stays inside its segment
                if segs[:2] == ["api", "models"]:
                    return self._model_info(segs[2:], parse_qs(parts.query))
                if len(segs) >= 5 and segs[2] == "resolve":
                    return self._resolve(f"{segs[0]}/{segs[1]}", unquote(segs[3]), unquote("/".join(segs[4:])))
                self._send(404, b"not found", {"X-Error-Code": "EntryNotFound"})

            def _model_info(self, segs, query):
                if hub.redirects:
                    return self._send(302, b"", {"Location": hub.redirects.pop(0)})
                if len(segs) == 2:
                    repo, rev = "/".join(segs), "main"
                elif len(segs) == 4 and segs[2] == "revision":
                    repo, rev = "/".join(segs[:2]), unquote(segs[3])
                else:
                    return self._send(404, b'{"error":"not found"}', {"X-Error-Code": "EntryNotFound"})
                if repo not in hub.refs:
                    return self._send(404, b'{"error":"Repository not found"}', {"X-Error-Code": "RepoNotFound"})
                commit = hub.commit(repo, rev)
                if commit is None:
                    return self._send(404, b'{"error":"Invalid rev id"}', {"X-Error-Code": "RevisionNotFound"})
                sha = commit if hub.sha_override is None else hub.sha_override
                body = {"_id": "0" * 24, "id": repo, "modelId": repo, "sha": sha}
                if query.get("expand") != ["sha"]:  # the full answer, as without `expand`
                    body.update(
                        private=False,
                        tags=[],
                        siblings=[{"rfilename": f} for (r, c, f) in hub.files if (r, c) == (repo, commit)],
                    )
                if hub.pad_body:
                    body["padding"] = "x" * hub.pad_body
                self._send(200, json.dumps(body).encode(), {"Content-Type": "application/json"})

            def _resolve(self, repo, rev, filename):
                commit = hub.commit(repo, rev)
                data = hub.files.get((repo, commit or "", filename))
                if data is None:
                    return self._send(404, b"Entry not found", {"X-Error-Code": "EntryNotFound"})
                extra = {"X-Repo-Commit": commit, "ETag": f'"{commit}-{len(data)}"', "Accept-Ranges": "bytes"}
                rng = self.headers.get("Range")
                if rng and rng.startswith("bytes="):
                    a, _, b = rng[6:].partition("-")
                    start, end = int(a), min(int(b), len(data) - 1) if b else len(data) - 1
                    extra["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
                    return self._send(206, data[start : end + 1], extra)
                self._send(200, data, extra)

            def _send(self, code, body: bytes, headers: dict):
                self.send_response(code)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    if hub.drip is None:
                        self.wfile.write(body)
                        return
                    for i in range(len(body)):
                        self.wfile.write(body[i : i + 1])
                        self.wfile.flush()
                        time.sleep(hub.drip)
                except OSError:  # the client gave up: fine
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def commit(self, repo: str, rev: str) -> str | None:
        refs = self.refs.get(repo, {})
        if rev in refs:
            return refs[rev]
        return rev if rev in self.commits.get(repo, ()) else None

    def push(self, repo: str, commit: str, files: dict[str, bytes] | None = None, ref: str = "main") -> None:
        """A new commit on `ref` (a branch or tag), with its files."""
        self.refs.setdefault(repo, {})[ref] = commit
        self.commits.setdefault(repo, set()).add(commit)
        for name, data in (files or {}).items():
            self.files[(repo, commit, name)] = data

    def __enter__(self) -> FakeHub:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
