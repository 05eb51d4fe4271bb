"""GGUF header reader: metadata and tensor infos only, never the weights, in bounded time and memory.

Why our own parser (stdlib only): it runs over any byte stream (a local file or HTTP Range reads),
stops at the end of the tensor infos, and refuses absurd counts and lengths before allocating, so
a malformed or hostile file gets a clear error instead of an out-of-memory kill. Every count is
also checked against what the file can really hold (its remaining bytes, when the size is known)
and the whole header against fixed budgets of bytes and strings, so even a sparse file that
announces millions of empty strings is refused in well under a second. Reads go through one
buffer (64 KiB at a time), never one call per value. The `gguf` package cross-checks it in tests.
What the metadata means (keys -> ModelInfo) is gguf_header.py's job.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

MAGIC = b"GGUF"
MAX_KV = 1 << 20
MAX_TENSORS = 1 << 20
MAX_STRING = 1 << 24  # 16 MiB for one string (chat templates are a few KiB)
MAX_ARRAY = 1 << 26
MAX_DIMS = 8
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
