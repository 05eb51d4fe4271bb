"""Forged headers cost what the file can really hold: bounded time and memory, one clear error.

A sparse file is cheap to make and can announce anything: 2^26 strings behind a metal host's
`file://` source once took 53 s and 585 MiB at plan time. Each case below is refused (or read)
well within a second and a few MiB.
"""

from __future__ import annotations

import json
import struct
import time
import tracemalloc

import pytest

from llmkube_iac.cli import main
from llmkube_iac.modelinfo.gguf_header import MAX_STRINGS, GGUFError, read_gguf_file, read_header
from llmkube_iac.modelinfo.inspect import inspect_source
from llmkube_iac.modelinfo.safetensors_header import parse_safetensors_header
from tests.conftest import ROOT


def gguf(n_tensors=0, n_kv=0) -> bytes:
    return b"GGUF" + struct.pack("<IQQ", 3, n_tensors, n_kv)


def kv_array(key: bytes, item_type: int, count: int) -> bytes:
    return struct.pack("<Q", len(key)) + key + struct.pack("<IIQ", 9, item_type, count)


def sparse(path, head: bytes, size: int):
    with open(path, "wb") as fh:
        fh.write(head)
        fh.truncate(size)
    return path


def measured(fn):
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        return fn(), None
    except (GGUFError, ValueError) as exc:
        return None, exc
    finally:
        measured.elapsed = time.perf_counter() - t0
        measured.peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()


STRINGS = 8
CASES = [  # (id, header bytes, file size, error text or None)
    (
        "2^26 strings in a sparse file",
        gguf(0, 1) + kv_array(b"tokenizer.ggml.tokens", STRINGS, 1 << 26),
        (1 << 26) * 8 + 4096,
        "would make the header larger than 128 MiB",
    ),
    (
        "more strings than the budget",
        gguf(0, 1) + kv_array(b"tokenizer.ggml.tokens", STRINGS, MAX_STRINGS + 1),
        (MAX_STRINGS + 1) * 8 + 4096,
        f"more than {MAX_STRINGS} strings",
    ),
    (
        "array longer than the file",
        gguf(0, 1) + kv_array(b"tokenizer.ggml.scores", 6, 1 << 20),
        4096,
        "need at least 4194304 bytes, but the file has",
    ),
    ("more keys than the file holds", gguf(0, 1 << 19), 4096, "metadata keys: 524288 announced"),
    ("more tensors than the file holds", gguf(1 << 19, 0), 4096, "tensor infos: 524288 announced"),
    ("string longer than the file", gguf(0, 1) + struct.pack("<Q", 1 << 23), 4096, "string bytes"),
    (
        "absurd layer count",
        gguf(0, 2)
        + struct.pack("<Q", 20)
        + b"general.architecture"
        + struct.pack("<IQ", 8, 5)
        + b"llama"
        + struct.pack("<Q", 17)
        + b"llama.block_count"
        + struct.pack("<IQ", 10, 1 << 40),
        4096,
        "llama.block_count 1099511627776 is not a layer count",
    ),
    (
        "tensor past the end",
        gguf(1, 0) + struct.pack("<Q", 1) + b"w" + struct.pack("<IQQIQ", 2, 1 << 20, 1 << 20, 0, 0),
        8192,
        "past the end of the file",
    ),
]


@pytest.mark.parametrize("head, size, error", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_forged_gguf_headers_are_bounded(tmp_path, head, size, error):
    path = sparse(tmp_path / "m.gguf", head, size)
    info, exc = measured(lambda: read_gguf_file(str(path)))
    assert measured.elapsed < 5 and measured.peak < 16 << 20, (measured.elapsed, measured.peak)
    assert exc is not None and error in str(exc), exc


def test_a_metal_file_source_with_a_forged_header_does_not_stall_the_plan(tmp_path, monkeypatch, capsys):
    """The plan reads file:// headers of metal models; a forged one costs nothing and plans without facts."""
    weights = sparse(tmp_path / "forged.gguf", CASES[0][1], CASES[0][2])
    (tmp_path / "Pulumi.yaml").write_text("name: llmkube\nruntime: python\n")
    (tmp_path / "__main__.py").write_text((ROOT / "stacks" / "__main__.py").read_text())
    config = {
        "llmkube:site": {
            "name": "t",
            "jurisdiction": "DE",
            "metalHosts": [{"name": "m1", "chip": "M3 Ultra", "unifiedMemoryGiB": 192, "address": "192.168.10.21"}],
        },
        "llmkube:models": [
            {"name": "m", "source": f"file://{weights}", "quantization": "Q4_K_M", "totalParametersB": 8}
        ],
        "llmkube:services": [{"name": "chat", "model": "m", "accelerator": {"vendor": "metal"}}],
    }
    (tmp_path / "Pulumi.s.yaml").write_text(json.dumps({"config": config}))
    monkeypatch.setenv("LLMKUBE_PLAN_TIME_FACTS", "on")
    t0 = time.perf_counter()
    rc = main(["check", str(tmp_path), "--stack", "s"])
    assert time.perf_counter() - t0 < 10
    assert rc in (0, 1), capsys.readouterr().err


def test_a_real_header_still_reads(models):
    info, exc = measured(lambda: read_gguf_file(str(models["llama"])))
    assert exc is None and info.block_count == 8 and measured.peak < 16 << 20


def test_streams_without_a_known_size_are_bounded_too():
    """Range reads that give no total size still stop at the header budget."""
    head = gguf(0, 1) + kv_array(b"tokenizer.ggml.tokens", STRINGS, 1 << 26)

    pos = [0]

    def read(n):  # an endless stream of zero bytes after the header
        chunk = head[pos[0] : pos[0] + n]
        pos[0] += n
        return chunk + b"\0" * (n - len(chunk))

    _, exc = measured(lambda: read_header(read))
    assert "would make the header larger than 128 MiB" in str(exc) and measured.elapsed < 5


def safetensors(header: bytes, data: int = 0) -> bytes:
    return struct.pack("<Q", len(header)) + header + b"\0" * data


ST_CASES = [
    ("length beyond the file", struct.pack("<Q", 90 << 20) + b"{}", "exceeds the file"),
    ("not JSON", safetensors(b"{nope"), "not JSON"),
    ("nested 100000 deep", safetensors(b"[" * 100_000 + b"]" * 100_000), "not JSON"),
    ("not an object", safetensors(b"[1, 2]"), "not a JSON object of tensors"),
    ("no dtype", safetensors(b'{"w": {"shape": [1]}}'), "needs a dtype"),
    (
        "negative dimension",
        safetensors(b'{"w": {"dtype": "F16", "shape": [-1], "data_offsets": [0, 2]}}', 2),
        "non-negative integers",
    ),
    (
        "offsets outside the file",
        safetensors(b'{"w": {"dtype": "F16", "shape": [8], "data_offsets": [0, 1e20]}}', 16),
        "do not lie inside",
    ),
    (
        "offsets past the data",
        safetensors(b'{"w": {"dtype": "F16", "shape": [8], "data_offsets": [0, 4096]}}', 16),
        "do not lie inside",
    ),
]


@pytest.mark.parametrize("blob, error", [c[1:] for c in ST_CASES], ids=[c[0] for c in ST_CASES])
def test_forged_safetensors_headers_are_refused(tmp_path, blob, error):
    path = tmp_path / "model.safetensors"
    path.write_bytes(blob)
    _, exc = measured(lambda: inspect_source(str(path)))
    assert exc is not None and error in str(exc) and measured.elapsed < 5


def test_a_valid_safetensors_header_reads():
    blob = safetensors(b'{"__metadata__": {}, "w": {"dtype": "F16", "shape": [2, 4], "data_offsets": [0, 16]}}', 16)
    pos = [0]

    def read(n):
        out = blob[pos[0] : pos[0] + n]
        pos[0] += n
        return out

    assert parse_safetensors_header(read, len(blob))["w"]["shape"] == [2, 4]
