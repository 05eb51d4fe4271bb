"""Read the first bytes of a remote file with HTTP Range requests, counting every byte and request.

Why: inspecting a 40 GB GGUF must not download it. The first request asks for 1 MiB (enough for
most headers); if the header is longer (large tokenizers), a second, open-ended Range request is
consumed only as far as the parser needs, then closed. So at most header + 1 MiB crosses the
wire, in at most 2 requests (3 with a Hugging Face redirect).

This module also owns what every HTTP reader of model files shares (the inspector, the plan-time
reader and the downloader): the Hugging Face endpoint, token and file URL, and Content-Range.
"""

from __future__ import annotations

import os
from urllib.parse import quote

FIRST_CHUNK = 1 << 20
STREAM_CHUNK = 64 << 10
DEFAULT_TIMEOUT = 10.0


def hf_endpoint() -> str:
    """The Hub or a site's mirror (`HF_ENDPOINT`), without a trailing slash."""
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def hf_token() -> str | None:
    """The Hub token from the environment (HF_TOKEN, or the older HUGGING_FACE_HUB_TOKEN)."""
    return os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN") or None


def hf_headers() -> dict[str, str]:
    token = hf_token()
    return {"Authorization": f"Bearer {token}"} if token else {}


def hf_file_url(repo: str, filename: str, revision: str | None = None, endpoint: str | None = None) -> str:
    """The resolve URL huggingface-hub's `hf_hub_url` builds, against `endpoint` (a site's mirror),
    else HF_ENDPOINT, else the Hub."""
    base = endpoint.rstrip("/") if endpoint else hf_endpoint()
    return f"{base}/{repo}/resolve/{quote(revision or 'main', safe='')}/{quote(filename)}"


def content_range_total(header: str | None) -> int | None:
    """The complete length from a Content-Range header (`bytes 0-99/1234` -> 1234); None when the
    header is absent, malformed or says the length is unknown (`bytes 0-99/*`)."""
    _, sep, total = (header or "").rpartition("/")
    return int(total) if sep and total.isascii() and total.isdigit() else None


class RangeReader:
    """Sequential `read(n)` over a URL, fetched lazily with at most two Range requests."""

    def __init__(self, url: str, headers: dict | None = None, timeout: float = DEFAULT_TIMEOUT, session=None):
        import requests

        self.url, self.headers, self.timeout = url, dict(headers or {}), timeout
        self.session = session or requests.Session()
        self.requests = 0
        self.bytes_read = 0
        self.size: int | None = None
        self._buf = b""
        self._pos = 0  # offset of _buf[0] in the file
        self._stream = None
        self._next = 0  # file offset where fetched data ends

    def _get(self, range_header: str, stream: bool):
        self.requests += 1
        resp = self.session.get(
            self.url,
            headers={**self.headers, "Range": range_header},
            stream=stream,
            timeout=self.timeout,
            allow_redirects=True,
        )
        if resp.status_code == 416:
            return None
        resp.raise_for_status()
        if resp.status_code != 206:
            resp.close()
            raise OSError(
                f"{self.url}: server ignored the Range request (HTTP {resp.status_code}); "
                "refusing to download the whole file to read its header"
            )
        total = content_range_total(resp.headers.get("Content-Range"))
        if total is not None:
            self.size = total
        return resp

    def _fill(self, need: int) -> None:
        while len(self._buf) < need:
            if self._stream is None and self.requests == 0:
                resp = self._get(f"bytes=0-{FIRST_CHUNK - 1}", stream=False)
                data = resp.content if resp is not None else b""
            elif self._stream is None:
                if self.size is not None and self._next >= self.size:
                    return
                self._stream = self._get(f"bytes={self._next}-", stream=True)
                if self._stream is None:
                    return
                continue
            else:
                data = self._stream.raw.read(max(STREAM_CHUNK, need - len(self._buf)))
            if not data:
                return
            self.bytes_read += len(data)
            self._next += len(data)
            self._buf += data
            if self._stream is None and self.size is not None and self._next >= self.size:
                return

    def read(self, n: int) -> bytes:
        self._fill(n)
        out, self._buf = self._buf[:n], self._buf[n:]
        self._pos += len(out)
        return out

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def __enter__(self) -> RangeReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def fetch_small(url: str, headers: dict | None = None, timeout: float = DEFAULT_TIMEOUT, limit: int = 8 << 20) -> bytes:
    """GET a small file (config.json, a safetensors index), refusing more than `limit` bytes."""
    import requests

    with requests.get(url, headers=headers or {}, timeout=timeout, stream=True) as resp:
        resp.raise_for_status()
        data = resp.raw.read(limit + 1, decode_content=True)
    if len(data) > limit:
        raise OSError(f"{url}: larger than {limit} bytes; not a metadata file")
    return data
