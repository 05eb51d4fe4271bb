"""Byte streams per source scheme, each able to start at an offset (resume).

Why each returns (total_size, iterator of chunks): the cache discipline in core/__init__ is the
same for every scheme; only how to ask for "bytes from N onward" differs. http/hf use Range,
s3 uses GetObject Range (boto3, honouring AWS_ENDPOINT_URL(_S3)), file/pvc read the local file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from ..modelinfo.remote import content_range_total, hf_endpoint, hf_token
from .core import CHUNK, FetchError

TIMEOUT = (10, 60)


class Restart(Exception):
    """The server ignored our Range: the partial file must be discarded and the transfer restarted."""


def http_stream(url: str, offset: int, headers: dict | None = None) -> tuple[int | None, Iterator[bytes], object]:
    import requests

    hdrs = dict(headers or {})
    if offset:
        hdrs["Range"] = f"bytes={offset}-"
    try:
        resp = requests.get(url, headers=hdrs, stream=True, timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise FetchError(f"cannot reach {url}: {exc}") from None
    if resp.status_code == 416 and offset:
        resp.close()
        return offset, iter(()), None
    if resp.status_code >= 400:
        resp.close()
        raise FetchError(f"{url}: HTTP {resp.status_code} {resp.reason}")
    if offset and resp.status_code != 206:
        resp.close()
        raise Restart()
    length = resp.headers.get("Content-Length")
    total = offset + int(length) if length and length.isascii() and length.isdigit() else None
    complete = content_range_total(resp.headers.get("Content-Range")) if resp.status_code == 206 else None
    if complete is not None:
        total = complete

    def chunks() -> Iterator[bytes]:
        with resp:
            while True:
                block = resp.raw.read(CHUNK)
                if not block:
                    return
                yield block

    return total, chunks(), resp


def hf_snapshot(repo: str, revision: str | None, dest: Path) -> Path:
    """A whole repository (safetensors layout) via huggingface-hub, honouring HF_ENDPOINT/HF_TOKEN."""
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise FetchError("whole-repo hf:// sources need huggingface-hub (pip install huggingface-hub)") from None
    try:
        return Path(
            snapshot_download(repo, revision=revision, local_dir=str(dest), endpoint=hf_endpoint(), token=hf_token())
        )
    except Exception as exc:  # noqa: BLE001 - hub errors are many classes; all mean "fetch failed"
        raise FetchError(f"hf://{repo}: {exc}") from None


def s3_client():
    try:
        import boto3
    except ImportError:
        raise FetchError("s3:// sources need boto3 (pip install boto3)") from None
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or None
    return boto3.client("s3", endpoint_url=endpoint)


def s3_stream(bucket: str, key: str, offset: int) -> tuple[int | None, Iterator[bytes], object]:
    from botocore.exceptions import BotoCoreError, ClientError

    client = s3_client()
    try:
        kwargs = {"Range": f"bytes={offset}-"} if offset else {}
        obj = client.get_object(Bucket=bucket, Key=key, **kwargs)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code == "InvalidRange" and offset:
            return offset, iter(()), None
        raise FetchError(f"s3://{bucket}/{key}: {code or exc}") from None
    except BotoCoreError as exc:
        raise FetchError(f"s3://{bucket}/{key}: {exc}") from None
    total = content_range_total(obj.get("ContentRange"))
    if total is None:
        total = offset + int(obj.get("ContentLength", 0))
    body = obj["Body"]
    return total, body.iter_chunks(CHUNK), body


def file_stream(path: Path, offset: int) -> tuple[int, Iterator[bytes], object]:
    if not path.is_file():
        raise FetchError(f"{path}: no such file")
    size = path.stat().st_size

    def chunks() -> Iterator[bytes]:
        with open(path, "rb") as fh:
            fh.seek(offset)
            while block := fh.read(CHUNK):
                yield block

    return size, chunks(), None
