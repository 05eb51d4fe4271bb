"""A container registry on 127.0.0.1 speaking the registry HTTP API v2 and the distribution token flow.

`/v2/<name>/manifests/<reference>` answers HEAD and GET for stored manifests (bytes as pushed, their
media type, `Docker-Content-Digest` = sha256 of those bytes) to a client holding a Bearer token for
`repository:<name>:pull`; anyone else gets 401 with `WWW-Authenticate: Bearer realm=...,service=...,
scope=...`. The realm (`/token`) issues tokens anonymously or, when `users` is set, only to HTTP Basic
credentials it knows. Knobs: `omit_head_digest` (a registry that leaves the header off HEAD),
`lie_digest` (a header that does not match the bytes), `token_field` (token or access_token),
`realm_host` (a token service named by another host).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from tests.support.loopback import JsonHandler

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


class FakeRegistry:
    def __init__(self, users: dict[str, str] | None = None, service: str = "fake-registry"):
        self.users, self.service = users, service
        self.manifests: dict[tuple[str, str], tuple[bytes, str]] = {}  # (name, tag or digest) -> (bytes, type)
        self.tokens: dict[str, str] = {}  # token -> scope
        self.requests: list[tuple[str, str, str | None]] = []  # (method, path, Authorization scheme)
        self.omit_head_digest = False
        self.lie_digest = False
        self.token_field = "token"
        self.realm_host: str | None = None  # where the challenge sends clients for tokens (default: this server)
        self._httpd: ThreadingHTTPServer | None = None

    def push(self, name: str, tag: str, manifest: dict, media_type: str = OCI_MANIFEST) -> str:
        """Store a manifest under name:tag (and its digest); returns the digest, computed from the bytes."""
        body = json.dumps(manifest, sort_keys=True).encode()
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        self.manifests[(name, tag)] = self.manifests[(name, digest)] = (body, media_type)
        return digest

    def start(self) -> FakeRegistry:
        registry = self

        class Handler(_Handler):
            reg = registry

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self._httpd.server_address[1]}"


class _Handler(JsonHandler):
    reg: FakeRegistry
    protocol_version = "HTTP/1.1"

    def _challenge(self, scope: str | None) -> None:
        realm = f'Bearer realm="http://{self.reg.realm_host or self.reg.host}/token",service="{self.reg.service}"'
        body = json.dumps({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}).encode()
        self.send_response(401)
        self.send_header("WWW-Authenticate", realm + (f',scope="{scope}"' if scope else ""))
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _token(self, query: dict) -> None:
        if self.reg.users is not None:
            auth = self.headers.get("Authorization", "")
            user, _, password = (
                base64.b64decode(auth.removeprefix("Basic ") or b"").decode().partition(":")
                if auth.startswith("Basic ")
                else ("", "", "")
            )
            if self.reg.users.get(user) != password or not user:
                return self.send_json(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]})
        if query.get("service") != self.reg.service:
            return self.send_json(400, {"errors": [{"code": "DENIED", "message": "unknown service"}]})
        token = secrets.token_hex(16)
        self.reg.tokens[token] = query.get("scope", "")
        self.send_json(200, {self.reg.token_field: token, "expires_in": 300})

    def _manifest(self, name: str, reference: str) -> None:
        scope = f"repository:{name}:pull"
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or self.reg.tokens.get(auth.removeprefix("Bearer ")) != scope:
            return self._challenge(scope)
        stored = self.reg.manifests.get((name, reference))
        accepted = [a.strip() for a in self.headers.get("Accept", "").split(",")]
        if stored is None or stored[1] not in accepted:
            body = json.dumps({"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]}).encode()
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            return None
        body, media_type = stored
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        self.send_response(200)
        self.send_header("Content-Type", media_type)
        self.send_header("Content-Length", str(len(body)))
        if not (self.command == "HEAD" and self.reg.omit_head_digest):
            self.send_header("Docker-Content-Digest", "sha256:" + "0" * 64 if self.reg.lie_digest else digest)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _route(self) -> None:
        url = urlparse(self.path)
        auth = self.headers.get("Authorization")
        self.reg.requests.append((self.command, url.path, auth.split()[0] if auth else None))
        if url.path == "/token" and self.command == "GET":
            return self._token({k: v[-1] for k, v in parse_qs(url.query).items()})
        if url.path in ("/v2/", "/v2"):
            return self._challenge(None)
        if url.path.startswith("/v2/") and "/manifests/" in url.path:
            name, _, reference = url.path[len("/v2/") :].rpartition("/manifests/")
            return self._manifest(name, reference)
        return self.send_json(404, {"errors": [{"code": "NOT_FOUND", "message": url.path}]})

    def do_GET(self):
        self._route()

    def do_HEAD(self):
        self._route()
