"""Parse and normalise every model source form, and derive the cache key from it.

One parser serves the spec validator, the planners (download Job, volumes), the fetcher and the
policy rules, so a source means the same thing everywhere.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

SCHEMES = ("hf", "https", "http", "s3", "pvc", "file", "oci")
DOWNLOADED = frozenset({"hf", "https", "http", "s3"})

_HF = re.compile(r"^hf://(?P<org>[A-Za-z0-9][\w.-]*)/(?P<repo>[\w.-]+)(@(?P<rev>[\w.-]+))?(/(?P<file>[^@]+))?$")
_S3 = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<key>.+)$")
_PVC = re.compile(r"^pvc://(?P<claim>[a-z0-9]([-a-z0-9]*[a-z0-9])?)(/(?P<path>.*))?$")
_OCI = re.compile(
    r"^oci://(?P<registry>[A-Za-z0-9.-]+(:[0-9]+)?)/(?P<repo>[a-z0-9][a-z0-9._/-]*)"
    r"(?P<ref>:[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64})$"
)

EXAMPLES = (
    "hf://org/repo[@revision][/file.gguf] (no file: whole repo), https://host/path/file.gguf, s3://bucket/key, "
    "pvc://claim/path, file:///abs/path, oci://registry/repo:tag (or @sha256:digest)"
)


@dataclass(frozen=True)
class ModelSource:
    """A parsed source. `location` is the bucket/claim/host/org-repo; `path` the file inside it."""

    scheme: str
    location: str
    path: str
    revision: str | None = None

    @property
    def uri(self) -> str:
        """The normalised URI: equal sources always print the same."""
        if self.scheme == "hf":
            rev = f"@{self.revision}" if self.revision else ""
            return f"hf://{self.location}{rev}/{self.path}" if self.path else f"hf://{self.location}{rev}"
        if self.scheme == "file":
            return f"file://{self.path}"
        if self.scheme == "oci":
            return f"oci://{self.location}{self.path}"
        if self.scheme == "pvc":
            return f"pvc://{self.location}/{self.path}" if self.path else f"pvc://{self.location}"
        return f"{self.scheme}://{self.location}/{self.path}"

    @property
    def filename(self) -> str:
        """The file name the runtime opens (the last path segment); empty for whole repos/volumes."""
        if self.scheme == "oci" or self.path.endswith("/"):
            return ""
        return self.path.rstrip("/").rsplit("/", 1)[-1]

    @property
    def needs_download(self) -> bool:
        """hf/http(s)/s3 are copied into the site cache by a Job; pvc/file/oci are mounted."""
        return self.scheme in DOWNLOADED

    @property
    def host(self) -> str | None:
        """Network host for http(s)/oci sources (used by the air-gap rules)."""
        if self.scheme in ("http", "https"):
            return urlsplit(self.uri).hostname
        if self.scheme == "oci":
            return self.location.split(":")[0]
        return None

    def cache_key(self, sha256: str | None = None) -> str:
        """Content hash when known (same bytes share a cache entry), else hash of URI+revision."""
        if sha256:
            return f"sha256-{sha256.lower()[:32]}"
        return "src-" + hashlib.sha256(self.uri.encode()).hexdigest()[:32]


def parse_source(uri: str) -> ModelSource:
    """Parse a source URI; raise ValueError naming the accepted forms when it is malformed."""
    if not isinstance(uri, str) or "://" not in uri:
        raise ValueError(f"malformed model source {uri!r}: expected one of {EXAMPLES}")
    scheme = uri.split("://", 1)[0].lower()
    if scheme not in SCHEMES:
        raise ValueError(f"unsupported source scheme {scheme!r} in {uri!r}: expected one of {EXAMPLES}")
    if scheme == "hf":
        m = _HF.match(uri)
        if not m:
            raise ValueError(f"malformed Hugging Face source {uri!r}: expected hf://org/repo[@revision][/file]")
        return ModelSource("hf", f"{m['org']}/{m['repo']}", (m["file"] or "").strip("/"), m["rev"])
    if scheme in ("http", "https"):
        parts = urlsplit(uri)
        if not parts.hostname or not parts.path.strip("/"):
            raise ValueError(f"malformed URL source {uri!r}: expected {scheme}://host/path/to/file")
        path = parts.path.lstrip("/") + (f"?{parts.query}" if parts.query else "")
        return ModelSource(scheme, parts.netloc, path)
    if scheme == "s3":
        m = _S3.match(uri)
        if not m:
            raise ValueError(f"malformed S3 source {uri!r}: expected s3://bucket/key")
        return ModelSource("s3", m["bucket"], m["key"])
    if scheme == "pvc":
        m = _PVC.match(uri)
        if not m:
            raise ValueError(f"malformed PVC source {uri!r}: expected pvc://claim-name/path/in/volume")
        return ModelSource("pvc", m["claim"], (m["path"] or "").strip("/"))
    if scheme == "file":
        path = uri[len("file://"):]
        if not path.startswith("/") or path == "/":
            raise ValueError(f"malformed file source {uri!r}: expected file:///absolute/path")
        return ModelSource("file", "", path)
    m = _OCI.match(uri)
    if not m:
        raise ValueError(f"malformed OCI source {uri!r}: expected oci://registry/repo:tag or oci://registry/repo@sha256:<64 hex>")
    return ModelSource("oci", m["registry"], f"/{m['repo']}{m['ref']}")
