"""The fetcher for real on loopback: resume, faults, locking, disk full, S3 (moto server), CLI."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import threading

import pytest

from llmkube_iac.cli import main
from llmkube_iac.fetch import MARKER, FetchError, fetch
from llmkube_iac.fetch.progress import silent
from tests.support.file_server import FileServer


@pytest.fixture
def blob(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    data = os.urandom(3 << 20)
    (src / "m.gguf").write_bytes(data)
    return src, data, hashlib.sha256(data).hexdigest()


def _marker(d):
    return json.loads((d / MARKER).read_text())


def test_http_fetch_verifies_and_marks(blob, tmp_path):
    src, data, sha = blob
    with FileServer(src) as srv:
        out = fetch(srv.url("m.gguf"), tmp_path / "c", sha, progress=silent)
        assert out.read_bytes() == data
        assert _marker(tmp_path / "c") == {
            "sha256": sha,
            "size": len(data),
            "file": "m.gguf",
            "source": srv.url("m.gguf"),
        }
        fetch(srv.url("m.gguf"), tmp_path / "c", sha, progress=silent)  # cached: no second transfer
        assert srv.requests == 1


def test_resume_transfers_only_missing_bytes(blob, tmp_path):
    src, data, sha = blob
    cache = tmp_path / "c"
    cache.mkdir()
    (cache / ".m.gguf.partial").write_bytes(data[:1234567])
    with FileServer(src) as srv:
        fetch(srv.url("m.gguf"), cache, sha, progress=silent)
    assert srv.bytes_sent == len(data) - 1234567 and srv.ranges == ["bytes=1234567-"]
    assert (cache / "m.gguf").read_bytes() == data


def test_server_drops_mid_stream_resumes(blob, tmp_path):
    src, data, sha = blob
    with FileServer(src) as srv:
        srv.drop_after = 1 << 20
        fetch(srv.url("m.gguf"), tmp_path / "c", sha, progress=silent)
        assert srv.requests == 2 and srv.bytes_sent == len(data)
    assert (tmp_path / "c" / "m.gguf").read_bytes() == data


def test_truncated_body_fails_without_cache_entry(blob, tmp_path):
    src, data, sha = blob
    with FileServer(src) as srv:
        srv.truncate_to = 1 << 20
        with pytest.raises(FetchError, match="truncated|attempts"):
            fetch(srv.url("m.gguf"), tmp_path / "c", sha, progress=silent)
    assert not (tmp_path / "c" / "m.gguf").exists() and not (tmp_path / "c" / MARKER).exists()


def test_wrong_hash_deletes_partial_and_exits_1(blob, tmp_path, capsys):
    src, _, _ = blob
    with FileServer(src) as srv:
        rc = main(["fetch", srv.url("m.gguf"), "--dest", str(tmp_path / "c"), "--sha256", "0" * 64])
    assert rc == 1 and "sha256 mismatch" in capsys.readouterr().err
    assert not any(p.name.endswith((".partial", "m.gguf")) for p in (tmp_path / "c").iterdir())


def test_bad_input_exits_2(tmp_path, capsys):
    assert main(["fetch", "ftp://x/y", "--dest", str(tmp_path)]) == 2
    assert "unsupported source scheme" in capsys.readouterr().err
    assert main(["fetch", "file:///etc/hostname", "--dest", str(tmp_path), "--sha256", "xyz"]) == 2


def test_two_concurrent_fetchers_one_transfer(blob, tmp_path):
    src, data, sha = blob
    errors = []
    with FileServer(src) as srv:

        def run():
            try:
                fetch(srv.url("m.gguf"), tmp_path / "c", sha, progress=silent)
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=run) for _ in range(2)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        assert not errors and srv.requests == 1
    assert (tmp_path / "c" / "m.gguf").read_bytes() == data


@pytest.fixture
def tiny_tmpfs(tmp_path):
    mnt = tmp_path / "small"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True).returncode:
        pytest.fail("the disk-full test needs root to mount a 1 MiB tmpfs (run the suite as root / in CI's container)")
    yield mnt
    subprocess.run(["umount", str(mnt)], check=False)


def test_disk_full_clear_error_no_corrupt_file(blob, tiny_tmpfs):
    src, _, sha = blob
    with FileServer(src) as srv:
        with pytest.raises(FetchError, match="disk full"):
            fetch(srv.url("m.gguf"), tiny_tmpfs, sha, progress=silent)
    assert not (tiny_tmpfs / "m.gguf").exists() and not (tiny_tmpfs / ".m.gguf.partial").exists()


def test_disk_full_during_write(blob, tiny_tmpfs):
    src, _, _ = blob  # a local source bypasses nothing: fill the disk under the size check
    (tiny_tmpfs / "filler").write_bytes(b"\0" * (900 << 10))
    with pytest.raises(FetchError, match="disk full"):
        fetch(f"file://{src}/m.gguf", tiny_tmpfs, progress=silent)
    assert not (tiny_tmpfs / "m.gguf").exists()


def test_file_and_pvc_sources(blob, tmp_path, monkeypatch):
    src, data, sha = blob
    assert fetch(f"file://{src}/m.gguf", tmp_path / "a", sha, progress=silent).read_bytes() == data
    monkeypatch.setenv("LLMKUBE_PVC_ROOT", str(tmp_path))
    out = fetch("pvc://src/m.gguf", tmp_path / "b", sha, progress=silent)
    assert out.read_bytes() == data and _marker(tmp_path / "b")["sha256"] == sha


def test_s3_against_moto_server(blob, tmp_path, monkeypatch):
    import boto3
    from moto.server import ThreadedMotoServer

    _, data, sha = blob
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    try:
        host, port = server.get_host_and_port()
        for k, v in {
            "AWS_ENDPOINT_URL_S3": f"http://{host}:{port}",
            "AWS_ACCESS_KEY_ID": "x",
            "AWS_SECRET_ACCESS_KEY": "x",
            "AWS_DEFAULT_REGION": "us-east-1",
        }.items():
            monkeypatch.setenv(k, v)
        s3 = boto3.client("s3", endpoint_url=f"http://{host}:{port}")
        s3.create_bucket(Bucket="models")
        s3.put_object(Bucket="models", Key="q/m.gguf", Body=data)
        cache = tmp_path / "c"
        cache.mkdir()
        (cache / ".m.gguf.partial").write_bytes(data[:1000])  # resumes with a ranged GetObject
        assert fetch("s3://models/q/m.gguf", cache, sha, progress=silent).read_bytes() == data
        with pytest.raises(FetchError, match="NoSuchKey"):
            fetch("s3://models/q/missing.gguf", tmp_path / "d", progress=silent)
    finally:
        server.stop()


def test_hf_file_through_the_site_mirror_resumes(blob, tmp_path, monkeypatch):
    """hf:// resolves against HF_ENDPOINT (the Hub's resolve layout) and resumes by Range like https://."""
    src, data, sha = blob
    hub = tmp_path / "hub" / "org" / "tiny-GGUF" / "resolve" / "v1.0"
    hub.mkdir(parents=True)
    (hub / "m.gguf").write_bytes(data)
    with FileServer(tmp_path / "hub") as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url("").rstrip("/"))
        server.drop_after = 1 << 20  # first response dies after 1 MiB: the rest comes by Range
        out = fetch("hf://org/tiny-GGUF@v1.0/m.gguf", tmp_path / "cache", sha256=sha, progress=silent)
    assert out.read_bytes() == data and _marker(tmp_path / "cache")["sha256"] == sha
    assert server.ranges[0] is None and server.ranges[-1] == f"bytes={1 << 20}-"
