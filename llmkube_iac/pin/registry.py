"""A registry HTTP API v2 client for one question: what digest does this tag point to?

HEAD /v2/<name>/manifests/<tag> with the OCI and Docker manifest media types accepted answers with
`Docker-Content-Digest`. A registry that wants authentication answers 401 with
`WWW-Authenticate: Bearer realm=...,service=...,scope=...` (the distribution token flow): the client
asks the realm for a token (anonymously, or with the Docker credentials for that registry) and
retries. A registry that omits the header on HEAD is asked with GET and the digest computed from the
manifest bytes it returned, which is what the digest is.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import requests

MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}\Z")
_TAG = re.compile(r"^[\w][\w.-]{0,127}\Z")
_NAME = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*\Z")
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')
DOCKER_HUB, DOCKER_HUB_API = "docker.io", "registry-1.docker.io"


class RegistryError(Exception):
    """The registry could not tell the digest: the message says which image, where, and why."""


@dataclass(frozen=True)
class ImageRef:
    """registry/repository:tag[@digest]; Docker Hub short names normalised (nginx -> docker.io/library/nginx)."""

    registry: str
    repository: str
    tag: str | None
    digest: str | None

    @property
    def api_host(self) -> str:
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry


def parse_reference(image: str) -> ImageRef:
    """Split an image reference; ValueError naming the reference when it is not one."""
    rest, _, digest = image.partition("@")
    first, sep, tail = rest.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, tail
    else:
        registry, path = DOCKER_HUB, rest if sep else f"library/{rest}"
    name, tag = path, None
    last = path.rsplit("/", 1)[-1]
    if ":" in last:
        name, _, tag = path.rpartition(":")
    if not _NAME.match(name) or (tag is not None and not _TAG.match(tag)) or (digest and not DIGEST.match(digest)):
        raise ValueError(f"{image!r} is not an image reference (registry/repository:tag[@sha256:...])")
    if tag is None and not digest:
        tag = "latest"
    return ImageRef(registry, name, tag, digest or None)


def docker_credentials(config_path: str | Path | None = None) -> dict[str, tuple[str, str]]:
    """registry host -> (user, password) from a Docker config.json (`auths.<host>.auth`, base64 user:pass);
    credential helpers are not run."""
    path = (
        Path(config_path)
        if config_path
        else Path(os.environ.get("DOCKER_CONFIG", Path.home() / ".docker")) / "config.json"
    )
    try:
        auths = json.loads(path.read_text()).get("auths") or {}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable Docker config ({exc})") from None
    out = {}
    for host, entry in auths.items():
        raw = (entry or {}).get("auth")
        if raw:
            user, _, password = base64.b64decode(raw).decode().partition(":")
            host = re.sub(r"^https?://", "", host).split("/")[0]
            out["docker.io" if host in ("index.docker.io", DOCKER_HUB_API) else host] = (user, password)
    return out


class RegistryClient:
    """Resolves tags to digests; `plain_http` names registries (host[:port]) reached over http, not https."""

    def __init__(
        self,
        plain_http: tuple[str, ...] = (),
        credentials: dict[str, tuple[str, str]] | None = None,
        verify: bool | str = True,
        timeout: float = 30.0,
    ):
        self.plain_http, self.credentials = set(plain_http), credentials or {}
        self.session = requests.Session()
        self.session.verify = verify
        self.timeout = timeout
        self.tokens: dict[tuple[str, str], str] = {}  # (registry, scope) -> bearer token

    def _base(self, ref: ImageRef) -> str:
        scheme = "http" if ref.registry in self.plain_http or ref.api_host in self.plain_http else "https"
        return f"{scheme}://{ref.api_host}"

    def digest(self, image: str) -> str:
        """The digest `image` (a tag) points to on its registry; RegistryError when it cannot be had."""
        ref = parse_reference(image)
        url = f"{self._base(ref)}/v2/{ref.repository}/manifests/{ref.tag or ref.digest}"
        headers = {"Accept": ", ".join(MANIFEST_TYPES)}
        resp = self._request("HEAD", url, headers, ref)
        digest = resp.headers.get("Docker-Content-Digest")
        if not digest:  # some registries answer HEAD without it: the digest is the sha256 of the manifest bytes
            resp = self._request("GET", url, headers, ref)
            digest = "sha256:" + hashlib.sha256(resp.content).hexdigest()
            told = resp.headers.get("Docker-Content-Digest")
            if told and told != digest:
                raise RegistryError(f"{image}: the registry says {told} but its manifest hashes to {digest}")
        if not DIGEST.match(digest):
            raise RegistryError(f"{image}: the registry answered digest {digest!r}, not sha256:<64 hex>")
        return digest

    def _request(self, method: str, url: str, headers: dict, ref: ImageRef) -> requests.Response:
        where = f"{ref.registry}/{ref.repository}:{ref.tag}"
        auth = self._auth(ref)
        try:
            resp = self.session.request(method, url, headers={**headers, **auth}, timeout=self.timeout)
            if resp.status_code == 401:
                auth = self._authenticate(resp.headers.get("WWW-Authenticate", ""), ref)
                resp = self.session.request(method, url, headers={**headers, **auth}, timeout=self.timeout)
        except requests.RequestException as exc:
            raise RegistryError(f"{where}: {ref.api_host} unreachable ({exc.__class__.__name__}: {exc})") from None
        if resp.status_code == 404:
            raise RegistryError(f"{where}: no such manifest on {ref.api_host} (mirror it there first)")
        if resp.status_code in (401, 403):
            raise RegistryError(
                f"{where}: {ref.api_host} refused access ({resp.status_code}); log in to it "
                "(docker login writes the credentials pin reads)"
            )
        if resp.status_code != 200:
            raise RegistryError(f"{where}: {ref.api_host} answered {resp.status_code}")
        return resp

    def _auth(self, ref: ImageRef) -> dict:
        token = self.tokens.get((ref.registry, _scope(ref)))
        return {"Authorization": f"Bearer {token}"} if token else {}

    def _authenticate(self, challenge: str, ref: ImageRef) -> dict:
        scheme, _, params = challenge.strip().partition(" ")
        fields = dict(_CHALLENGE.findall(params))
        creds = self.credentials.get(ref.registry) or self.credentials.get(ref.api_host)
        if scheme.lower() == "basic":
            if not creds:
                raise RegistryError(f"{ref.registry}: asks for a password (Basic); log in to it first")
            return {"Authorization": "Basic " + base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode()}
        if scheme.lower() != "bearer" or "realm" not in fields:
            raise RegistryError(f"{ref.registry}: unsupported authentication challenge {challenge!r}")
        realm = fields["realm"]
        realm_host = re.sub(r"^https?://", "", realm).split("/")[0]
        if creds and realm.startswith("http://") and realm_host not in self.plain_http:
            raise RegistryError(
                f"{ref.registry}: its token service {realm} is plain http; credentials are not "
                "sent there (name it with --plain-http if that is intended)"
            )
        scope = fields.get("scope") or _scope(ref)
        params = {"scope": scope, **({"service": fields["service"]} if "service" in fields else {})}
        try:
            resp = self.session.get(realm, params=params, auth=creds, timeout=self.timeout)
        except requests.RequestException as exc:
            raise RegistryError(f"{ref.registry}: token service {realm} unreachable ({exc})") from None
        if resp.status_code != 200:
            raise RegistryError(f"{ref.registry}: token service {realm} refused ({resp.status_code}); log in first")
        try:
            body = resp.json()
        except ValueError:
            raise RegistryError(f"{ref.registry}: token service {realm} answered no JSON") from None
        token = body.get("token") or body.get("access_token")
        if not token:
            raise RegistryError(f"{ref.registry}: token service {realm} answered no token")
        self.tokens[(ref.registry, _scope(ref))] = token
        return {"Authorization": f"Bearer {token}"}


def _scope(ref: ImageRef) -> str:
    return f"repository:{ref.repository}:pull"
