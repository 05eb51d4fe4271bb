"""Remote GGUF inspection: a sparse multi-GB GGUF (real header, 60k-token vocabulary) on a loopback
server; prints bytes read, requests and time.

    python benchmarks/remote_inspect.py [--size-gib 8]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from llmkube_iac.modelinfo import inspect_source  # noqa: E402
from llmkube_iac.units import GIB  # noqa: E402
from tests.support.file_server import FileServer, sparse_copy_with_header  # noqa: E402
from tests.support.synth import SynthShape, write_model  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-gib", type=int, default=8)
    size = ap.parse_args().size_gib << 30
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        src = write_model(
            tmp / "h.gguf", SynthShape(n_layer=2, n_embd=64, n_head=4, n_head_kv=2, n_ff=128, n_vocab=60000)
        )
        (tmp / "srv").mkdir()
        sparse_copy_with_header(src, tmp / "srv" / "big.gguf", size)
        with FileServer(tmp / "srv") as srv:
            t0 = time.perf_counter()
            info = inspect_source(srv.url("big.gguf"))
            dt = time.perf_counter() - t0
        hb = info.header_bytes
        print(
            f"file {size / GIB:.0f} GiB, header {hb} bytes; client read {info.__dict__['_bytes_read']} bytes "
            f"(header + {info.__dict__['_bytes_read'] - hb}), server sent {srv.bytes_sent} bytes, "
            f"{srv.requests} request(s), {dt * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
