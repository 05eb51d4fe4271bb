"""A fake Kubernetes API server on 127.0.0.1: real HTTP/JSON, resourceVersion, 409s, watch streams.

Only the kinds the metal-agent touches (ConfigMaps, Events, Leases, EndpointSlices, Secrets),
namespaced. `stop()` closes the listening socket and drops open connections (an outage); `start()`
brings it back on the same port with the same objects, like an API server restart behind a stable
address. Given Role `rules`, it authorizes every request the way Kubernetes RBAC does (verb from
the method, resourceNames from the URL or a watch's metadata.name field selector) and answers 403.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from tests.support.loopback import JsonHandler

_PREFIXES = {
    ("api", "v1"): {"configmaps", "events", "services", "secrets"},
    ("apis", "coordination.k8s.io", "v1"): {"leases"},
    ("apis", "discovery.k8s.io", "v1"): {"endpointslices"},
}
_GROUPS = {"leases": "coordination.k8s.io", "endpointslices": "discovery.k8s.io"}  # others: the core group ""


class FakeApiServer:
    """In-memory object store with a global resourceVersion and an event log for watches."""

    def __init__(self, token: str | None = None, port: int = 0, rules: list[dict] | None = None):
        self.token, self.port, self.rules = token, port, rules
        self.forbidden: list[tuple[str, str, str | None]] = []  # (verb, plural, name) refused by the rules
        self.objects: dict[tuple[str, str, str], dict] = {}
        self.log: list[tuple[int, str, str, str, dict]] = []  # (rv, plural, ns, type, object)
        self.requests: list[tuple[str, str]] = []  # (method, path) for assertions
        self.rv = 0
        self.cond = threading.Condition()
        self.down = False
        self._httpd: ThreadingHTTPServer | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> FakeApiServer:
        server = self

        class Handler(_Handler):
            api = server

        for _ in range(50):  # after stop(), the port can take a moment to be reusable
            try:
                self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"port {self.port} did not become free")
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.down = False
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        return self

    def stop(self) -> None:
        """An outage: refuse new connections, drop open ones and end watch streams."""
        with self.cond:
            self.down = True
            self.cond.notify_all()
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- store -----------------------------------------------------------------------------------
    def put_object(self, plural: str, obj: dict) -> dict:
        """Create or overwrite as an administrator would (no resourceVersion check); returns the stored copy."""
        meta = obj["metadata"]
        key = (plural, meta["namespace"], meta["name"])
        with self.cond:
            return self._store(key, obj, "MODIFIED" if key in self.objects else "ADDED")

    def get_object(self, plural: str, namespace: str, name: str) -> dict | None:
        with self.cond:
            obj = self.objects.get((plural, namespace, name))
            return copy.deepcopy(obj) if obj else None

    def list_objects(self, plural: str, namespace: str) -> list[dict]:
        with self.cond:
            return [
                copy.deepcopy(o) for (p, ns, _), o in sorted(self.objects.items()) if p == plural and ns == namespace
            ]

    def allowed(self, method: str, plural: str, name: str | None, query: dict) -> bool:
        """RBAC: does some rule grant this verb on this resource (and name, where the rule names some)?"""
        watch = query.get("watch") in ("1", "true")
        if method == "GET" and name is None:
            verb, name = ("watch" if watch else "list"), query.get("fieldSelector", "").removeprefix("metadata.name=")
        else:
            verb = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}[method]
        for rule in self.rules:
            if (
                _GROUPS.get(plural, "") in rule.get("apiGroups", [])
                and plural in rule.get("resources", [])
                and verb in rule.get("verbs", [])
                and ("resourceNames" not in rule or (name and name in rule["resourceNames"]))
            ):
                return True
        self.forbidden.append((verb, plural, name or None))
        return False

    def _store(self, key, obj: dict, kind: str) -> dict:
        self.rv += 1
        obj = copy.deepcopy(obj)
        obj["metadata"]["resourceVersion"] = str(self.rv)
        obj["metadata"]["namespace"] = key[1]
        if kind == "DELETED":
            self.objects.pop(key, None)
        else:
            self.objects[key] = obj
        self.log.append((self.rv, key[0], key[1], kind, copy.deepcopy(obj)))
        self.cond.notify_all()
        return copy.deepcopy(obj)


def _status(code: int, reason: str, message: str) -> dict:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "code": code,
        "reason": reason,
        "message": message,
    }


class _Handler(JsonHandler):
    api: FakeApiServer
    protocol_version = "HTTP/1.1"

    def _route(self):
        url = urlparse(self.path)
        parts = [p for p in url.path.split("/") if p]
        for prefix, plurals in _PREFIXES.items():
            n = len(prefix)
            if (
                tuple(parts[:n]) == prefix
                and len(parts) in (n + 3, n + 4)
                and parts[n] == "namespaces"
                and parts[n + 2] in plurals
            ):
                return (
                    parts[n + 2],
                    parts[n + 1],
                    (parts[n + 3] if len(parts) == n + 4 else None),
                    {k: v[-1] for k, v in parse_qs(url.query).items()},
                )
        return None

    def _handle(self, method: str) -> None:
        api = self.api
        if api.down:
            self.close_connection = True
            return
        api.requests.append((method, self.path))
        if api.token and self.headers.get("Authorization") != f"Bearer {api.token}":
            return self.send_json(401, _status(401, "Unauthorized", "missing or wrong bearer token"))
        route = self._route()
        if route is None:
            return self.send_json(404, _status(404, "NotFound", f"no such path {self.path}"))
        plural, ns, name, query = route
        if api.rules is not None and not api.allowed(method, plural, name, query):
            return self.send_json(403, _status(403, "Forbidden", f"{method} {plural}/{name or ''} is not allowed"))
        body = None
        if method in ("POST", "PUT"):
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        if method == "GET" and name is None and query.get("watch") in ("1", "true"):
            return self._watch(plural, ns, query)
        with api.cond:
            key = (plural, ns, name or (body or {}).get("metadata", {}).get("name"))
            current = api.objects.get(key)
            if method == "GET" and name is None:
                items = [o for (p, n, _), o in sorted(api.objects.items()) if p == plural and n == ns]
                return self.send_json(
                    200, {"kind": "List", "metadata": {"resourceVersion": str(api.rv)}, "items": items}
                )
            if method == "GET":
                if current:
                    return self.send_json(200, current)
                return self.send_json(404, _status(404, "NotFound", f"{key}"))
            if method == "POST":
                if current:
                    return self.send_json(409, _status(409, "AlreadyExists", f"{plural} {key[2]} already exists"))
                return self.send_json(201, api._store(key, body, "ADDED"))
            if method == "PUT":
                if not current:
                    return self.send_json(404, _status(404, "NotFound", f"{key}"))
                sent = body.get("metadata", {}).get("resourceVersion")
                if sent and sent != current["metadata"]["resourceVersion"]:
                    return self.send_json(
                        409,
                        _status(
                            409,
                            "Conflict",
                            "the object has been modified; please apply your changes to the latest version",
                        ),
                    )
                return self.send_json(200, api._store(key, body, "MODIFIED"))
            if method == "DELETE":
                if not current:
                    return self.send_json(404, _status(404, "NotFound", f"{key}"))
                api._store(key, current, "DELETED")
                return self.send_json(200, _status(200, "Success", "deleted") | {"status": "Success"})
        self.send_json(405, _status(405, "MethodNotAllowed", method))

    def _watch(self, plural: str, ns: str, query: dict) -> None:
        """Chunked JSON lines, one per change after `resourceVersion`, until timeoutSeconds or an outage."""
        api = self.api
        since = int(query.get("resourceVersion") or api.rv)
        name = query.get("fieldSelector", "").removeprefix("metadata.name=") or None
        deadline = time.monotonic() + float(query.get("timeoutSeconds", 300))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.close_connection = True
        try:
            while time.monotonic() < deadline:
                with api.cond:
                    events = [
                        e
                        for e in api.log
                        if e[0] > since
                        and e[1] == plural
                        and e[2] == ns
                        and (name is None or e[4]["metadata"]["name"] == name)
                    ]
                    if not events and not api.down:
                        api.cond.wait(0.25)
                    if api.down:
                        return
                for rv, _, _, kind, obj in events:
                    line = json.dumps({"type": kind, "object": obj}).encode() + b"\n"
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                    self.wfile.flush()
                    since = rv
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")

    def do_DELETE(self):
        self._handle("DELETE")
