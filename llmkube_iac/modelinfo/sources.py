"""Parse and normalise every model source form, and derive the cache key from it.

One parser serves the spec validator, the planners (download Job, volumes), the fetcher and the
policy rules, so a source means the same thing everywhere.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

SCHEMES = ("hf", "https", "http", "s3", "pvc", "file", "oci")
DOWNLOADED = frozenset({"hf", "https", "http", "s3"})

# hf://org/repo[@rev][/file]: split loosely first so that each part gets its own error message
_HF = re.compile(r"hf://(?P<org>[^/@]*)/(?P<repo>[^/@]*)(@(?P<rev>[^/]*))?(/(?P<file>.*))?", re.DOTALL)
# huggingface_hub's repo-id rule (utils/_validators.py): ASCII word characters, '.', '-'; starts and ends
# with a word character; at most 96; no '--' or '..'
_HF_NAME = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_.-]{0,94}[A-Za-z0-9_])?", re.ASCII)
# a branch or tag name as a source may carry it: a safe subset of git's ref rules (no '/', '..', '%', spaces)
_HF_REVISION = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", re.ASCII)
COMMIT = re.compile(r"[0-9a-fA-F]{40}")
PUBLIC_HUB_HOSTS = ("huggingface.co", "hf.co")
_S3 = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<key>.+)\Z")
_PVC = re.compile(r"^pvc://(?P<claim>[a-z0-9]([-a-z0-9]*[a-z0-9])?)(/(?P<path>.*))?\Z")
_OCI = re.compile(
    r"^oci://(?P<registry>[A-Za-z0-9.-]+(:[0-9]{1,5})?)/(?P<repo>[a-z0-9][a-z0-9._/-]*)"
    r"(?P<ref>:[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64})\Z"
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
    def pinned(self) -> bool:
        """An hf source whose revision is a commit: it names the same bytes forever."""
        return self.scheme == "hf" and bool(self.revision) and COMMIT.fullmatch(self.revision or "") is not None

    def at_revision(self, commit: str) -> ModelSource:
        """This hf source pinned to `commit` (a 40-hex commit sha)."""
        if self.scheme != "hf" or not COMMIT.fullmatch(commit or ""):
            raise ValueError(f"cannot pin {self.uri} to {commit!r}: a 40-hex commit of an hf source is needed")
        return ModelSource("hf", self.location, self.path, commit.lower())

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


_UNSAFE = re.compile(r"[\s\x00-\x1f\x7f\\]")
MAX_URI = 2048


def _shown(uri: str) -> str:
    return repr(uri if len(uri) <= 80 else uri[:80] + "…")


def _check_segments(path: str, uri: str) -> None:
    """No `.` or `..` segment (also percent-encoded): a source never climbs out of its repo, bucket or volume."""
    for segment in unquote(path).split("/"):
        if segment in (".", ".."):
            raise ValueError(
                f"model source {_shown(uri)} has a '{segment}' path segment: name the file directly "
                "(sources never leave their repository, bucket, volume or directory)"
            )


def _check_port(netloc_port: str | None, uri: str) -> None:
    if netloc_port is not None and not (netloc_port.isdigit() and 0 < int(netloc_port) <= 65535):  # "-1": unparsable
        raise ValueError(f"model source {_shown(uri)} has an invalid port: ports are 1-65535")


def _check_host(host: str | None, uri: str) -> None:
    try:
        ipaddress.ip_address(host or "")
        return
    except ValueError:
        pass
    if (
        not host
        or not re.match(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z", host)
        or len(host) > 253
    ):
        raise ValueError(f"model source {_shown(uri)} has no valid host name")


def parse_source(uri: str) -> ModelSource:
    """Parse a source URI; raise ValueError naming the accepted forms when it is malformed."""
    if not isinstance(uri, str) or "://" not in uri:
        raise ValueError(f"malformed model source {_shown(str(uri))}: expected one of {EXAMPLES}")
    if len(uri) > MAX_URI:
        raise ValueError(f"model source of {len(uri)} characters: a source URI is at most {MAX_URI}")
    scheme = uri.split("://", 1)[0].lower()
    if scheme != "hf" and _UNSAFE.search(uri):  # hf sources get a message per part (_parse_hf)
        raise ValueError(
            f"model source {_shown(uri)} contains whitespace, a backslash or a control character: "
            "percent-encode it in URLs, or rename the file"
        )
    if scheme not in SCHEMES:
        raise ValueError(f"unsupported source scheme {_shown(scheme)} in {_shown(uri)}: expected one of {EXAMPLES}")
    if scheme == "hf":
        return _parse_hf(uri)
    if scheme in ("http", "https"):
        parts = urlsplit(uri)
        if not parts.hostname or not parts.path.strip("/"):
            raise ValueError(f"malformed URL source {_shown(uri)}: expected {scheme}://host/path/to/file")
        if parts.username is not None or parts.password is not None:
            raise ValueError(f"model source {_shown(uri)} carries credentials: keep them out of config (a Secret)")
        if parts.fragment:
            raise ValueError(f"model source {_shown(uri)} has a #fragment, which a download would not send")
        try:
            port = parts.port
        except ValueError:  # not a number, or beyond 65535
            port = -1
        _check_port(None if port is None else str(port), uri)
        _check_host(parts.hostname, uri)
        _check_segments(parts.path, uri)
        path = parts.path.lstrip("/") + (f"?{parts.query}" if parts.query else "")
        return ModelSource(scheme, parts.netloc, path)
    if scheme == "s3":
        m = _S3.match(uri)
        if not m:
            raise ValueError(f"malformed S3 source {_shown(uri)}: expected s3://bucket/key")
        _check_segments(m["key"], uri)
        return ModelSource("s3", m["bucket"], m["key"])
    if scheme == "pvc":
        m = _PVC.match(uri)
        if not m or len(m["claim"]) > 253:
            raise ValueError(f"malformed PVC source {_shown(uri)}: expected pvc://claim-name/path/in/volume")
        _check_segments(m["path"] or "", uri)
        return ModelSource("pvc", m["claim"], (m["path"] or "").strip("/"))
    if scheme == "file":
        path = uri[len("file://") :]
        if not path.startswith("/") or path == "/":
            raise ValueError(f"malformed file source {_shown(uri)}: expected file:///absolute/path")
        _check_segments(path, uri)
        return ModelSource("file", "", path)
    m = _OCI.match(uri)
    if not m:
        raise ValueError(
            f"malformed OCI source {_shown(uri)}: expected oci://registry/repo:tag or "
            "oci://registry/repo@sha256:<64 hex>"
        )
    registry, _, registry_port = m["registry"].partition(":")
    _check_port(registry_port or None, uri)
    _check_host(registry.lower(), uri)
    _check_segments(m["repo"], uri)
    return ModelSource("oci", m["registry"], f"/{m['repo']}{m['ref']}")


def is_public_hub(url_or_host: str | None) -> bool:
    """huggingface.co itself (or hf.co): never a site's mirror."""
    text: str = url_or_host or ""
    host: str = (urlsplit(text).hostname or "") if "://" in text else text
    host = host.lower().rstrip(".")
    return host in PUBLIC_HUB_HOSTS or host.endswith(".huggingface.co")


def check_revision(rev: str, uri: str) -> str:
    """A branch, tag or 40-hex commit; anything that could leave its URL path segment is refused."""
    if COMMIT.fullmatch(rev):
        return rev.lower()
    if rev == "refs":
        raise ValueError(
            f"revision in {uri!r}: revisions with '/' (refs/pr/N, refs/convert/...) cannot be "
            "written in a source; pin the commit instead: hf://org/repo@<40-hex commit>"
        )
    if not _HF_REVISION.fullmatch(rev) or ".." in rev or rev.endswith((".", ".lock")):
        raise ValueError(
            f"revision {rev!r} in {uri!r} is not a branch, tag or commit name: use letters, digits, "
            "'.', '-', '_' (no '/', '..', '%', spaces or control characters), or a 40-hex commit"
        )
    return rev


def _parse_hf(uri: str) -> ModelSource:
    m = _HF.fullmatch(uri)
    if not m:
        raise ValueError(f"malformed Hugging Face source {uri!r}: expected hf://org/repo[@revision][/file]")
    for part, value in (("organisation", m["org"]), ("repository", m["repo"])):
        if not _HF_NAME.fullmatch(value) or "--" in value or ".." in value:
            raise ValueError(
                f"{part} name {value!r} in {uri!r} is not a Hugging Face name: 1-96 letters, digits, "
                "'.', '-', '_', starting and ending with a letter, digit or '_', no '--' or '..'"
            )
    rev = None if m["rev"] is None else check_revision(m["rev"], uri)
    path = (m["file"] or "").strip("/")
    if path and any(seg in ("", ".", "..") for seg in path.split("/")) or re.search(r"[\x00-\x1f\x7f\\@?#]", path):
        raise ValueError(
            f"file path {path!r} in {uri!r}: no empty, '.' or '..' segments, control characters, '\\', '@', '?' or '#'"
        )
    return ModelSource("hf", f"{m['org']}/{m['repo']}", path, rev)
