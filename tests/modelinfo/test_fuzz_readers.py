"""Fuzz: GGUF and safetensors headers built to lie (counts, lengths, types, shapes, sizes).

Each case is parsed and turned into ModelInfo as plan time does. The answer is a ValueError
(GGUFError is one) or the facts, in bounded time and memory: a forged count never costs more
than the bytes the (possibly sparse) file really has, and never more than the header budgets.
"""

from __future__ import annotations

import json
import struct
import time
import tracemalloc

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmkube_iac.modelinfo.gguf_header import info_from_header, read_header
from llmkube_iac.modelinfo.info import ModelInfo
from llmkube_iac.modelinfo.safetensors_header import add_tensors, parse_safetensors_header

COUNTS = st.one_of(
    st.integers(0, 6), st.sampled_from([1 << 20, (1 << 20) + 1, 1 << 26, 1 << 40, 2**64 - 1]), st.integers(0, 2**64 - 1)
)
KEYS = st.sampled_from(
    [
        b"general.architecture",
        b"llama.block_count",
        b"llama.context_length",
        b"llama.attention.head_count",
        b"llama.attention.head_count_kv",
        b"general.alignment",
        b"tokenizer.ggml.tokens",
        b"general.file_type",
        b"llama.attention.sliding_window_pattern",
        b"llama.expert_count",
        b"x" * 300,
    ]
)


def _string(data: bytes) -> bytes:
    return struct.pack("<Q", len(data)) + data


@st.composite
def gguf_values(draw, depth=0):
    vtype = draw(st.integers(0, 13))
    if vtype in (0, 1, 7):
        return struct.pack("<I", vtype) + bytes([draw(st.integers(0, 255))])
    if vtype in (2, 3):
        return struct.pack("<I", vtype) + struct.pack("<H", draw(st.integers(0, 2**16 - 1)))
    if vtype in (4, 5, 6):
        return struct.pack("<I", vtype) + struct.pack("<I", draw(st.integers(0, 2**32 - 1)))
    if vtype in (10, 11, 12):
        return struct.pack("<I", vtype) + struct.pack("<Q", draw(st.integers(0, 2**64 - 1)))
    if vtype == 8:
        return struct.pack("<I", 8) + _string(draw(st.binary(max_size=20)))
    if vtype == 9 and depth == 0:
        itype, count = draw(st.integers(0, 13)), draw(COUNTS)
        items = b"".join(draw(gguf_values(1))[4:] for _ in range(min(count, 3)))
        return struct.pack("<IIQ", 9, itype, count) + items
    return struct.pack("<I", vtype)


@st.composite
def gguf_headers(draw):
    kvs = draw(st.lists(st.tuples(KEYS, gguf_values()), max_size=5))
    tensors = draw(
        st.lists(
            st.tuples(
                st.binary(max_size=12),
                st.lists(st.integers(0, 2**64 - 1), max_size=9),
                st.integers(0, 40),
                st.integers(0, 2**64 - 1),
            ),
            max_size=4,
        )
    )
    blob = b"GGUF" + struct.pack("<I", draw(st.sampled_from([3, 3, 2, 1, 99])))
    blob += struct.pack(
        "<QQ", draw(st.one_of(st.just(len(tensors)), COUNTS)), draw(st.one_of(st.just(len(kvs)), COUNTS))
    )
    blob += b"".join(_string(k) + v for k, v in kvs)
    for name, dims, ttype, offset in tensors:
        blob += _string(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        blob += struct.pack("<IQ", ttype, offset)
    cut = draw(st.integers(0, len(blob)))
    blob = blob[:cut] if draw(st.integers(0, 3)) == 0 else blob
    size = len(blob) + draw(st.one_of(st.just(0), st.integers(0, 1 << 20), st.integers(0, 1 << 36)))
    return blob, size


def _reader(blob: bytes, size: int):
    """The file as a sparse one: its bytes, then zeros up to `size`."""
    pos = [0]

    def read(n: int) -> bytes:
        end = min(pos[0] + n, size)
        out = blob[pos[0] : end]
        out += b"\0" * (end - pos[0] - len(out))
        pos[0] = end
        return out

    return read


def _quiet(fn) -> None:
    try:
        fn()
    except ValueError:
        pass


def _bounded(fn) -> None:
    """Time untraced (tracemalloc slows Python loops several-fold), then peak memory traced."""
    t0 = time.perf_counter()
    _quiet(fn)
    elapsed = time.perf_counter() - t0
    tracemalloc.start()
    try:
        _quiet(fn)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < 5 and peak < 48 << 20, (elapsed, peak)  # hang guards: the worst accepted takes ~0.3 s


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(header=gguf_headers())
def test_forged_gguf_headers_cost_what_the_file_holds(header):
    blob, size = header

    def parse():
        meta, tensors, _ = read_header(_reader(blob, size), size)
        info_from_header(meta, tensors, "fuzz", size)

    _bounded(parse)


JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False), st.text(max_size=8)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)),
    max_leaves=12,
)
TENSOR = st.fixed_dictionaries(
    {
        "dtype": st.one_of(st.sampled_from(["F16", "BF16", "F4", "I8", "?"]), JSON),
        "shape": st.one_of(st.lists(st.integers(-2, 2**60), max_size=5), JSON),
        "data_offsets": st.one_of(st.lists(st.integers(-5, 2**64), min_size=2, max_size=2), JSON),
    }
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    tensors=st.one_of(st.dictionaries(st.text(max_size=10), TENSOR, max_size=4), JSON),
    declared=st.one_of(st.none(), st.integers(0, 2**64 - 1)),
    tail=st.integers(0, 1 << 20),
    raw=st.booleans(),
    junk=st.binary(max_size=64),
)
def test_forged_safetensors_headers_cost_what_the_file_holds(tensors, declared, tail, raw, junk):
    body = junk if raw else json.dumps(tensors).encode()
    blob = struct.pack("<Q", len(body) if declared is None else declared) + body
    size = len(blob) + tail

    def parse():
        info = ModelInfo(source="fuzz", format="safetensors")
        add_tensors(info, parse_safetensors_header(_reader(blob, size), size))

    _bounded(parse)
