"""A small Kubernetes API client (requests only) for the handful of calls the agent makes.

The official client is heavy and drags in dependencies a Mac without the Pulumi stack should not
need; the agent needs get/create/replace/delete and a watch on a few kinds, nothing more.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

PATHS = {
    "configmaps": "api/v1",
    "services": "api/v1",
    "events": "api/v1",
    "leases": "apis/coordination.k8s.io/v1",
    "endpointslices": "apis/discovery.k8s.io/v1",
    "secrets": "api/v1",
}


class ApiError(Exception):
    """The API server answered with an error status (404, 409 ...) rather than being unreachable."""

    def __init__(self, status: int, message: str):
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


@dataclass
class Credentials:
    """Where the API server is and how to prove who we are (token, token file, or client cert)."""

    server: str
    token: str | None = None
    token_file: str | None = None
    cert: tuple[str, str] | None = None
    verify: bool | str = True

    def bearer(self) -> str | None:
        if self.token_file:  # re-read: projected and rotated tokens change underneath us
            return Path(self.token_file).read_text().strip()
        return self.token


def _materialise(data_b64: str, suffix: str) -> str:
    fd, path = tempfile.mkstemp(prefix="llmkube-agent-", suffix=suffix)
    with os.fdopen(fd, "wb") as fh:
        fh.write(base64.b64decode(data_b64))
    os.chmod(path, 0o600)
    return path


def load_kubeconfig(path: str, context: str | None = None) -> Credentials:
    """Read a kubeconfig (YAML needs PyYAML; a JSON kubeconfig needs nothing)."""
    text = Path(path).expanduser().read_text()
    if text.lstrip().startswith("{"):
        cfg = json.loads(text)
    else:
        try:
            import yaml
        except ImportError:  # pragma: no cover - depends on the host
            raise SystemExit("kubeconfig is YAML: pip install pyyaml, or pass --server and --token-file") from None
        cfg = yaml.safe_load(text)
    name = context or cfg.get("current-context")
    ctx = next((c["context"] for c in cfg.get("contexts", []) if c["name"] == name), None)
    if ctx is None:
        raise SystemExit(f"kubeconfig {path}: context {name!r} not found; pass --context")
    cluster = next(c["cluster"] for c in cfg["clusters"] if c["name"] == ctx["cluster"])
    user = next((u["user"] for u in cfg.get("users", []) if u["name"] == ctx.get("user")), {})
    verify: bool | str = not cluster.get("insecure-skip-tls-verify", False)
    if cluster.get("certificate-authority-data"):
        verify = _materialise(cluster["certificate-authority-data"], ".crt")
    elif cluster.get("certificate-authority"):
        verify = cluster["certificate-authority"]
    cert = None
    if user.get("client-certificate-data") and user.get("client-key-data"):
        cert = (_materialise(user["client-certificate-data"], ".crt"), _materialise(user["client-key-data"], ".key"))
    elif user.get("client-certificate") and user.get("client-key"):
        cert = (user["client-certificate"], user["client-key"])
    return Credentials(
        server=cluster["server"].rstrip("/"),
        token=user.get("token"),
        token_file=user.get("tokenFile"),
        cert=cert,
        verify=verify,
    )


class KubeClient:
    """Namespaced CRUD + watch; one requests.Session per thread (sessions are not thread-safe)."""

    def __init__(self, creds: Credentials, namespace: str, timeout: float = 5.0):
        self.creds, self.namespace, self.timeout = creds, namespace, timeout
        self._local = threading.local()

    def _session(self) -> requests.Session:
        s = getattr(self._local, "session", None)
        if s is None:
            s = self._local.session = requests.Session()
            s.verify, s.cert = self.creds.verify, self.creds.cert
        return s

    def _url(self, plural: str, name: str | None = None) -> str:
        url = f"{self.creds.server}/{PATHS[plural]}/namespaces/{self.namespace}/{plural}"
        return f"{url}/{name}" if name else url

    def _request(self, method: str, url: str, **kw) -> requests.Response:
        headers = {"Accept": "application/json"}
        token = self.creds.bearer()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        kw.setdefault("timeout", self.timeout)
        resp = self._session().request(method, url, headers=headers, **kw)
        if resp.status_code >= 400:
            try:
                message = resp.json().get("message", resp.text)
            except ValueError:
                message = resp.text
            raise ApiError(resp.status_code, message)
        return resp

    def get(self, plural: str, name: str) -> dict:
        return self._request("GET", self._url(plural, name)).json()

    def create(self, plural: str, obj: dict) -> dict:
        return self._request("POST", self._url(plural), json=obj).json()

    def replace(self, plural: str, obj: dict) -> dict:
        """PUT with the object's resourceVersion: a concurrent writer makes this a 409, never a lost update."""
        return self._request("PUT", self._url(plural, obj["metadata"]["name"]), json=obj).json()

    def delete(self, plural: str, name: str) -> None:
        self._request("DELETE", self._url(plural, name))

    def watch(self, plural: str, name: str, resource_version: str, timeout_seconds: int = 60) -> Iterator[dict]:
        """Yield watch events ({type, object}) for one object until the server ends the stream."""
        params = {
            "watch": "1",
            "fieldSelector": f"metadata.name={name}",
            "resourceVersion": resource_version,
            "timeoutSeconds": str(timeout_seconds),
            "allowWatchBookmarks": "true",
        }
        resp = self._request(
            "GET", self._url(plural), params=params, stream=True, timeout=(self.timeout, timeout_seconds + 5)
        )
        try:
            for line in resp.iter_lines():
                if line:
                    yield json.loads(line)
        finally:
            resp.close()
