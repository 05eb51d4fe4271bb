"""GGUF header reader: agrees with the gguf package, reads remote headers cheaply, refuses garbage."""

from __future__ import annotations

import struct
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmkube_iac.modelinfo import inspect_source
from llmkube_iac.modelinfo.gguf_header import GGUFError, read_gguf_file, read_header
from tests.support.file_server import FileServer, sparse_copy_with_header

GiB = 1 << 30


@pytest.mark.parametrize("kind", ["llama", "moe", "gemma3"])
def test_header_agrees_with_gguf_package(models, kind):
    import gguf

    info = read_gguf_file(str(models[kind]))
    ref = gguf.GGUFReader(str(models[kind]))
    assert info.total_bytes == sum(int(t.n_bytes) for t in ref.tensors)
    assert info.parameter_count == sum(int(t.n_elements) for t in ref.tensors)
    assert info.block_count == 8 and info.head_count_kv == [2] * 8 and info.head_dim_k == 64
    assert info.vocab_size == 1024 and info.file_type == "F16"
    if kind == "moe":
        assert info.expert_count == 4 and info.expert_used_count == 2 and info.expert_bytes > info.total_bytes / 2
        assert len(info.expert_bytes_per_layer) == 8
    if kind == "gemma3":  # llama.cpp's gemma3 pattern: every 6th layer is global
        assert info.sliding_window == 512
        assert info.swa_layers == [True] * 5 + [False] + [True] * 2


def test_remote_multi_gb_reads_header_plus_at_most_1mib(big_header_model, tmp_path):
    local = read_gguf_file(str(big_header_model))
    assert local.header_bytes > 1 << 20  # the case that needs a second request
    sparse_copy_with_header(big_header_model, tmp_path / "big.gguf", 6 * GiB)
    with FileServer(tmp_path) as srv:
        info = inspect_source(srv.url("big.gguf"))
    assert info.total_bytes == local.total_bytes and info.file_size == 6 * GiB
    assert info.__dict__["_requests"] <= 3 and srv.requests <= 3
    assert info.__dict__["_bytes_read"] <= local.header_bytes + (1 << 20)


def test_remote_small_header_single_request(models, tmp_path):
    (tmp_path / "m.gguf").write_bytes(models["llama"].read_bytes())
    with FileServer(tmp_path) as srv:
        info = inspect_source(srv.url("m.gguf"))
    assert srv.requests == 1 and info.block_count == 8 and srv.bytes_sent <= 1 << 20


def _header(n_tensors=0, n_kv=0, version=3) -> bytes:
    return b"GGUF" + struct.pack("<IQQ", version, n_tensors, n_kv)


@pytest.mark.parametrize(
    "data,needle",
    [
        (b"GGML" + b"\0" * 20, "not a GGUF file"),
        (b"GGUF\x03\0\0", "truncated"),
        (_header(version=9), "unsupported GGUF version"),
        (_header(n_tensors=1 << 40), "absurd counts"),
        (_header(n_kv=1) + struct.pack("<Q", 1 << 50) + b"\0" * 8, "absurd string length"),
        (_header(n_kv=1) + struct.pack("<Q", 1) + b"k" + struct.pack("<IIQ", 9, 4, 1 << 40), "absurd array length"),
        (_header(n_kv=1) + struct.pack("<Q", 1) + b"k" + struct.pack("<I", 77), "unknown GGUF value type"),
    ],
)
def test_malformed_headers_get_clear_errors(tmp_path, data, needle):
    p = tmp_path / "bad.gguf"
    p.write_bytes(data)
    with pytest.raises(GGUFError, match=needle):
        read_gguf_file(str(p))


@settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=512), cut=st.integers(min_value=0, max_value=4096))
def test_fuzz_bounded_time_and_clear_error(models, data, cut):
    """Random bytes, and a real header cut short or with garbage spliced in: a GGUFError, fast."""
    real = models["llama"].read_bytes()[:4096]
    for blob in (data, _header(3, 5) + data, real[:cut] + data):
        pos = [0]

        def read(n, blob=blob, pos=pos):
            out = blob[pos[0] : pos[0] + n]
            pos[0] += len(out)
            return out

        t0 = time.perf_counter()
        try:
            read_header(read)
        except GGUFError:
            pass
        assert time.perf_counter() - t0 < 1.0
