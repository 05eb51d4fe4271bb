"""GGUF header reader: metadata and tensor infos only, never the weights, in bounded time and memory.

Why our own parser (stdlib only): it runs over any byte stream (a local file or HTTP Range reads),
stops at the end of the tensor infos, and refuses absurd counts and lengths before allocating, so
a malformed or hostile file gets a clear error instead of an out-of-memory kill. Every count is
also checked against what the file can really hold (its remaining bytes, when the size is known)
and the whole header against fixed budgets of bytes and strings, so even a sparse file that
announces millions of empty strings is refused in well under a second. Reads go through one
buffer (64 KiB at a time), never one call per value. The `gguf` package cross-checks it in tests.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from .info import SWA_PATTERN_DEFAULTS, ModelInfo, swa_layers_from_pattern

MAGIC = b"GGUF"
MAX_KV = 1 << 20
MAX_TENSORS = 1 << 20
MAX_STRING = 1 << 24  # 16 MiB for one string (chat templates are a few KiB)
MAX_ARRAY = 1 << 26
MAX_DIMS = 8
MAX_LAYERS = 1 << 16  # per-layer facts are lists this long; real models have at most a few hundred layers
MAX_HEADER_BYTES = 1 << 27  # 128 MiB; real headers (vocabularies, merges, templates) stay under ~30 MiB
MAX_STRINGS = 1 << 20  # strings in one header; real vocabularies plus merges stay under ~500k
CHUNK = 64 << 10
_STRING = struct.Struct("<Q")
KEEP_ARRAY = 4096  # arrays longer than this are skipped (tokenizer vocab), only their length kept

# ggml type id -> (name, elements per block, bytes per block); ggml.h / gguf.constants
GGML_TYPES: dict[int, tuple[str, int, int]] = {
    0: ("F32", 1, 4),
    1: ("F16", 1, 2),
    2: ("Q4_0", 32, 18),
    3: ("Q4_1", 32, 20),
    6: ("Q5_0", 32, 22),
    7: ("Q5_1", 32, 24),
    8: ("Q8_0", 32, 34),
    9: ("Q8_1", 32, 36),
    10: ("Q2_K", 256, 84),
    11: ("Q3_K", 256, 110),
    12: ("Q4_K", 256, 144),
    13: ("Q5_K", 256, 176),
    14: ("Q6_K", 256, 210),
    15: ("Q8_K", 256, 292),
    16: ("IQ2_XXS", 256, 66),
    17: ("IQ2_XS", 256, 74),
    18: ("IQ3_XXS", 256, 98),
    19: ("IQ1_S", 256, 50),
    20: ("IQ4_NL", 32, 18),
    21: ("IQ3_S", 256, 110),
    22: ("IQ2_S", 256, 82),
    23: ("IQ4_XS", 256, 136),
    24: ("I8", 1, 1),
    25: ("I16", 1, 2),
    26: ("I32", 1, 4),
    27: ("I64", 1, 8),
    28: ("F64", 1, 8),
    29: ("IQ1_M", 256, 56),
    30: ("BF16", 1, 2),
    34: ("TQ1_0", 256, 54),
    35: ("TQ2_0", 256, 66),
    39: ("MXFP4", 32, 17),
}
# general.file_type -> label (llama.h LLAMA_FTYPE_*)
FILE_TYPES = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    7: "Q8_0",
    8: "Q5_0",
    9: "Q5_1",
    10: "Q2_K",
    11: "Q3_K_S",
    12: "Q3_K_M",
    13: "Q3_K_L",
    14: "Q4_K_S",
    15: "Q4_K_M",
    16: "Q5_K_S",
    17: "Q5_K_M",
    18: "Q6_K",
    19: "IQ2_XXS",
    20: "IQ2_XS",
    21: "Q2_K_S",
    22: "IQ3_XS",
    23: "IQ3_XXS",
    24: "IQ1_S",
    25: "IQ4_NL",
    26: "IQ3_S",
    27: "IQ3_M",
    28: "IQ2_S",
    29: "IQ2_M",
    30: "IQ4_XS",
    31: "IQ1_M",
    32: "BF16",
    36: "TQ1_0",
    37: "TQ2_0",
    38: "MXFP4_MOE",
}
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


class GGUFError(ValueError):
    """A file that is not a readable GGUF header; the message says where and why."""


class _Cursor:
    """Sequential reads over `read(n)` through one buffer; a short read is a truncated header.

    `size` is the file's length when known: counts that need more bytes than remain are refused
    before anything is allocated or looped over.
    """

    def __init__(self, read: Callable[[int], bytes], size: int | None = None):
        self._read, self.size, self.pos = read, size, 0
        self._buf, self._off = b"", 0
        self.strings = 0

    def _fill(self, n: int) -> None:
        have = len(self._buf) - self._off
        if have >= n:
            return
        chunks, want = [self._buf[self._off :]], max(n - have, CHUNK)
        if self.size is not None:
            want = min(want, self.size - self.pos - have)
        while have < n and want > 0:
            data = self._read(want)
            if not data:
                break
            chunks.append(data)
            have += len(data)
            want -= len(data)
        self._buf, self._off = b"".join(chunks), 0

    def take(self, n: int) -> bytes:
        if self.pos + n > MAX_HEADER_BYTES or (n == 0 and self.pos > MAX_HEADER_BYTES):
            raise GGUFError(
                f"GGUF header larger than {MAX_HEADER_BYTES >> 20} MiB (at offset {self.pos}): "
                "not a model header this reader accepts"
            )
        self._fill(n)
        data = self._buf[self._off : self._off + n]
        if len(data) != n:
            raise GGUFError(f"truncated GGUF header: wanted {n} bytes at offset {self.pos}, got {len(data)}")
        self._off += n
        self.pos += n
        return data

    def skip(self, n: int) -> None:
        """Consume n bytes without keeping them (long scalar arrays)."""
        while n > 0:
            step = min(n, CHUNK)
            self.take(step)
            n -= step

    def room(self, count: int, each: int, what: str) -> None:
        """Refuse `count` items of at least `each` bytes when the rest of the file cannot hold them."""
        if self.size is not None and count * each > self.size - self.pos:
            raise GGUFError(
                f"{what}: {count} announced at offset {self.pos} need at least {count * each} bytes, "
                f"but the file has {self.size - self.pos} left"
            )
        if self.pos + count * each > MAX_HEADER_BYTES:
            raise GGUFError(
                f"{what}: {count} announced at offset {self.pos} would make the header larger than "
                f"{MAX_HEADER_BYTES >> 20} MiB"
            )

    def count_strings(self, n: int) -> None:
        self.strings += n
        if self.strings > MAX_STRINGS:
            raise GGUFError(
                f"more than {MAX_STRINGS} strings in the GGUF header (offset {self.pos}): "
                "not a model header this reader accepts"
            )

    def unpack(self, fmt: str):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def _length(self) -> int:
        n = self.unpack("<Q")
        if n > MAX_STRING:
            raise GGUFError(f"absurd string length {n} at offset {self.pos - 8} (limit {MAX_STRING})")
        self.room(n, 1, "string bytes")
        return n

    def string(self) -> str:
        self.count_strings(1)
        return self.take(self._length()).decode("utf-8", errors="replace")

    def skip_strings(self, count: int) -> None:
        """Skip `count` strings: whole runs inside the buffer in one tight loop, the rest one by one."""
        self.count_strings(count)
        unpack, left = _STRING.unpack_from, count
        while left:
            buf, off = self._buf, self._off
            end, start = len(buf), off
            while left and end - off >= 8:
                n = unpack(buf, off)[0]
                if n > end - off - 8:
                    break
                off += 8 + n
                left -= 1
            self._off, self.pos = off, self.pos + off - start
            if self.pos > MAX_HEADER_BYTES:
                self.take(0)  # raises: the header budget is spent
            if left:  # a string that straddles the buffer's end (or an absurd length): the careful path
                self.skip(self._length())
                left -= 1

    def value(self, vtype: int):
        if vtype in _SCALARS:
            return self.unpack(_SCALARS[vtype])
        if vtype == 8:
            return self.string()
        if vtype == 9:
            itype, count = self.unpack("<I"), self.unpack("<Q")
            if count > MAX_ARRAY:
                raise GGUFError(f"absurd array length {count} at offset {self.pos - 8} (limit {MAX_ARRAY})")
            if itype == 9:
                raise GGUFError(f"nested arrays are not supported (offset {self.pos})")
            if itype not in _SCALARS and itype != 8:
                raise GGUFError(f"unknown GGUF value type {itype} at offset {self.pos - 12}")
            width = struct.calcsize(_SCALARS[itype]) if itype in _SCALARS else 8
            self.room(count, width, "array items")
            if count > KEEP_ARRAY:
                if itype == 8:
                    self.skip_strings(count)
                else:
                    self.skip(width * count)
                return _Skipped(count)
            return [self.value(itype) for _ in range(count)]
        raise GGUFError(f"unknown GGUF value type {vtype} at offset {self.pos - 4}")


class _Skipped(int):
    """A long array we did not keep: its length only."""


def read_header(
    read: Callable[[int], bytes],
    size: int | None = None,
) -> tuple[dict, list[tuple[str, tuple[int, ...], int, int]], int]:
    """Parse magic, KV metadata and tensor infos; returns (metadata, tensors, data_offset).

    `size`: the file's length when known; counts and tensor extents are checked against it."""
    cur = _Cursor(read, size)
    magic = cur.take(4)
    if magic != MAGIC:
        raise GGUFError(f"not a GGUF file: magic {magic!r}, expected {MAGIC!r}")
    version = cur.unpack("<I")
    if version not in (2, 3):
        raise GGUFError(f"unsupported GGUF version {version} (this reader knows 2 and 3)")
    n_tensors, n_kv = cur.unpack("<Q"), cur.unpack("<Q")
    if n_tensors > MAX_TENSORS or n_kv > MAX_KV:
        raise GGUFError(f"absurd counts in GGUF header: {n_tensors} tensors, {n_kv} metadata keys")
    cur.room(n_kv, 8 + 4 + 1, "metadata keys")  # key length, value type, the smallest value
    cur.room(n_tensors, 8 + 4 + 4 + 8, "tensor infos")  # name length, dims, type, offset
    meta: dict = {}
    for _ in range(n_kv):
        key = cur.string()
        meta[key] = cur.value(cur.unpack("<I"))
    tensors = []
    for _ in range(n_tensors):
        name = cur.string()
        n_dims = cur.unpack("<I")
        if n_dims > MAX_DIMS:
            raise GGUFError(f"tensor {name[:80]!r}: absurd dimension count {n_dims}")
        dims = tuple(cur.unpack("<Q") for _ in range(n_dims))
        ttype, offset = cur.unpack("<I"), cur.unpack("<Q")
        if ttype not in GGML_TYPES:
            raise GGUFError(f"tensor {name[:80]!r}: unknown ggml type {ttype}")
        tensors.append((name, dims, ttype, offset))
    align = meta.get("general.alignment", 32)
    if not isinstance(align, int) or align <= 0 or align & (align - 1):
        raise GGUFError(f"general.alignment must be a power of two, got {align!r}")
    data_offset = -(-cur.pos // align) * align
    if size is not None:
        for name, dims, ttype, offset in tensors:
            end = data_offset + offset + tensor_nbytes(dims, ttype)
            if end > size:
                raise GGUFError(
                    f"tensor {name[:80]!r} ends at byte {end}, past the end of the file ({size} bytes): "
                    "a truncated or forged file"
                )
    meta["__header_bytes__"] = cur.pos
    return meta, tensors, data_offset


def tensor_nbytes(dims: tuple[int, ...], ttype: int) -> int:
    _, block, size = GGML_TYPES[ttype]
    n = 1
    for d in dims:
        n *= d
    return n // block * size


def _per_layer(value, n_layer: int) -> list[int] | None:
    if value is None or isinstance(value, _Skipped):
        return None
    if isinstance(value, list):
        return [int(v) for v in value][:n_layer]
    return [int(value)] * n_layer


# `<arch>.<key>` metadata the reader computes with: an integer, or a per-layer list of integers/booleans
NUMERIC_KEYS = (
    "block_count",
    "context_length",
    "embedding_length",
    "feed_forward_length",
    "attention.key_length",
    "attention.value_length",
    "expert_count",
    "expert_used_count",
    "attention.sliding_window",
    "attention.kv_lora_rank",
    "rope.dimension_count",
    "attention.head_count",
    "attention.head_count_kv",
    "attention.sliding_window_pattern",
    "attention.recurrent_layers",
    "full_attention_interval",
    "ssm.conv_kernel",
    "ssm.inner_size",
    "ssm.state_size",
    "ssm.group_count",
    "attention.key_length_swa",
    "attention.value_length_swa",
    "attention.shared_kv_layers",
    "embedding_length_per_layer_input",
    "attention.indexer.key_length",
    "attention.compress_ratios",
    "vocab_size",
)


def _check_types(meta: dict, arch) -> None:
    """A forged header can put any type under any key: refuse the ones the reader would compute with."""
    if arch is not None and not isinstance(arch, str):
        raise GGUFError(f"general.architecture is a {type(arch).__name__}, not a name")
    for key in NUMERIC_KEYS:
        value = meta.get(f"{arch}.{key}")
        ok = (
            value is None
            or isinstance(value, int)
            or (isinstance(value, list) and all(isinstance(v, (int, bool)) for v in value))
        )
        if not ok:
            raise GGUFError(
                f"metadata {arch}.{key} is a {type(value).__name__}; an integer (or one per layer) was expected"
            )
    tokens = meta.get("tokenizer.ggml.tokens")
    if tokens is not None and not isinstance(tokens, (list, _Skipped)):
        raise GGUFError(f"metadata tokenizer.ggml.tokens is a {type(tokens).__name__}, not an array")
    if meta.get("general.file_type") is not None and not isinstance(meta["general.file_type"], int):
        raise GGUFError("metadata general.file_type is not an integer")
    for key in ("general.name", "general.license"):
        if not isinstance(meta.get(key), (str, type(None))):
            meta[key] = None  # descriptive only


def info_from_header(meta: dict, tensors: list, source: str = "", file_size: int | None = None) -> ModelInfo:
    """Turn raw GGUF metadata + tensor infos into ModelInfo (parameters and bytes from shapes)."""
    arch = meta.get("general.architecture")
    _check_types(meta, arch)
    a: Callable[[str], Any] = lambda key: meta.get(f"{arch}.{key}")  # noqa: E731
    n_layer = a("block_count")
    if n_layer is not None and (
        not isinstance(n_layer, int) or isinstance(n_layer, bool) or not 0 <= n_layer <= MAX_LAYERS
    ):
        raise GGUFError(f"{arch}.block_count {str(n_layer)[:40]} is not a layer count (at most {MAX_LAYERS})")
    total = params = experts = 0
    per_layer_exp: dict[int, int] = {}
    for name, dims, ttype, _ in tensors:
        nb = tensor_nbytes(dims, ttype)
        n = 1
        for d in dims:
            n *= d
        total += nb
        params += n
        if "_exps" in name:
            experts += nb
            if name.startswith("blk."):
                layer = int(name.split(".")[1]) if name.split(".")[1].isdigit() else -1
                per_layer_exp[layer] = per_layer_exp.get(layer, 0) + nb
    info = ModelInfo(
        source=source,
        format="gguf",
        architecture=arch,
        name=meta.get("general.name"),
        block_count=n_layer,
        context_length=a("context_length"),
        embedding_length=a("embedding_length"),
        feed_forward_length=a("feed_forward_length")
        if not isinstance(a("feed_forward_length"), list)
        else max(a("feed_forward_length")),
        key_length=a("attention.key_length"),
        value_length=a("attention.value_length"),
        expert_count=a("expert_count"),
        expert_used_count=a("expert_used_count"),
        sliding_window=a("attention.sliding_window"),
        kv_lora_rank=a("attention.kv_lora_rank"),
        rope_dim=a("rope.dimension_count"),
        file_size=file_size,
        parameter_count=params,
        total_bytes=total,
        expert_bytes=experts or None,
        header_bytes=meta.get("__header_bytes__"),
        license=meta.get("general.license"),
        tensors=list(tensors),
    )
    hc = a("attention.head_count")
    info.head_count = max(hc) if isinstance(hc, list) and hc else hc
    if isinstance(n_layer, int) and n_layer > 0:
        info.head_count_kv = _per_layer(
            a("attention.head_count_kv") if a("attention.head_count_kv") is not None else hc, n_layer
        )
        if per_layer_exp:
            info.expert_bytes_per_layer = [per_layer_exp.get(i, 0) for i in range(n_layer)]
        pattern = a("attention.sliding_window_pattern")
        if info.sliding_window:
            if isinstance(pattern, list):
                info.swa_layers = [bool(p) for p in pattern][:n_layer]
            elif isinstance(pattern, int):
                info.swa_layers = swa_layers_from_pattern(n_layer, pattern)
            elif arch in SWA_PATTERN_DEFAULTS:
                info.swa_layers = swa_layers_from_pattern(n_layer, SWA_PATTERN_DEFAULTS[arch])
    _hybrid_and_sparse(info, arch, a, n_layer, tensors)
    tokens = meta.get("tokenizer.ggml.tokens")
    info.vocab_size = a("vocab_size") or (int(tokens) if isinstance(tokens, _Skipped) else len(tokens or []) or None)
    ft = meta.get("general.file_type")
    info.file_type = FILE_TYPES.get(ft, str(ft)) if ft is not None else None
    if info.is_moe and info.expert_count and info.expert_used_count and info.expert_bytes:
        share = info.expert_used_count / info.expert_count
        info.active_parameter_count = int(params - (params * experts / total) * (1 - share)) if total else None
    return info


# hybrid architectures whose GGUF may carry only `full_attention_interval` (llama.cpp defaults it to 4)
HYBRID_INTERVAL_ARCHS = ("qwen3next", "qwen35", "qwen35moe")


def _hybrid_and_sparse(info: ModelInfo, arch, a, n_layer, tensors) -> None:
    """Recurrent layers (Gated DeltaNet), Gemma 4's per-layer facts, sparse-attention indexer keys."""
    if not isinstance(n_layer, int) or n_layer <= 0:
        return
    recr = a("attention.recurrent_layers")
    if isinstance(recr, list):
        info.recurrent_layers = [bool(r) for r in recr][:n_layer]
    elif arch in HYBRID_INTERVAL_ARCHS:
        interval = a("full_attention_interval") or 4
        info.recurrent_layers = [(il + 1) % interval != 0 for il in range(n_layer)]
    if info.recurrent_layers is not None:
        info.ssm_conv_kernel, info.ssm_inner_size = a("ssm.conv_kernel"), a("ssm.inner_size")
        info.ssm_state_size, info.ssm_group_count = a("ssm.state_size"), a("ssm.group_count")
    info.key_length_swa, info.value_length_swa = a("attention.key_length_swa"), a("attention.value_length_swa")
    info.kv_shared_layers = a("attention.shared_kv_layers") or None
    info.embedding_length_per_layer = a("embedding_length_per_layer_input") or None
    info.indexer_key_length = a("attention.indexer.key_length")
    ratios = a("attention.compress_ratios")
    info.compress_ratios = [int(r) for r in ratios][:n_layer] if isinstance(ratios, list) else None
    sizes = {name: tensor_nbytes(dims, ttype) for name, dims, ttype, _ in tensors}
    # llama.cpp keeps the input layer on the CPU: embeddings read by row never go to a GPU (a tied
    # output matrix is duplicated onto the device instead, so token_embd stays counted there)
    host = sizes.get("per_layer_token_embd.weight", 0)
    if "output.weight" in sizes:
        host += sizes.get("token_embd.weight", 0)
    info.host_only_bytes = host or None


def read_gguf_file(path: str, source: str | None = None) -> ModelInfo:
    """Header facts of a local GGUF file."""
    import os

    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        meta, tensors, _ = read_header(fh.read, size)
    return info_from_header(meta, tensors, source or path, size)
