"""What hostile input costs: time and peak memory of each bounded path, worst cases included.

Prints one line per case (seconds, peak MiB of Python allocations, outcome):
  alias bomb        a 10^9-node alias bomb under an unused stack key          (refused in ms)
  nesting           100,000 nested lists in a stack file                       (refused at depth 64)
  gguf 2^26 strings a sparse GGUF announcing 2^26 strings                      (refused at once)
  gguf 1M strings   a sparse GGUF with 1,048,575 empty strings: the most a header may hold
  gguf real header  a 60,000-token synthetic model's header (reference)
  safetensors deep  a safetensors header nested 100,000 deep                   (refused)
  check dev stack   `llmkube-iac check stacks --stack dev` in-process (reference)

    python benchmarks/hostile_inputs.py
"""

from __future__ import annotations

import contextlib
import io
import os
import struct
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository's tests/support helpers

from llmkube_iac.cli import main  # noqa: E402
from llmkube_iac.modelinfo.gguf_header import MAX_STRINGS, read_gguf_file  # noqa: E402
from llmkube_iac.modelinfo.safetensors_header import parse_safetensors_header  # noqa: E402
from llmkube_iac.render.pulumi_yaml import loads  # noqa: E402
from tests.support.synth import SynthShape, write_model  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _run(fn) -> str:
    try:
        fn()
        return "accepted"
    except (ValueError, OSError) as exc:
        return "refused: " + str(exc).splitlines()[-1][:70]


def measure(name: str, fn) -> None:
    """Time without tracing (tracemalloc slows Python loops several-fold), then peak memory traced."""
    t0 = time.perf_counter()
    outcome = _run(fn)
    elapsed = time.perf_counter() - t0
    tracemalloc.start()
    _run(fn)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"{name:18s} {elapsed:8.3f} s {peak / 2**20:8.1f} MiB  {outcome}")


def sparse_gguf(path: Path, strings: int) -> Path:
    key = b"tokenizer.ggml.tokens"
    head = b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", len(key)) + key
    head += struct.pack("<IIQ", 9, 8, strings)
    with path.open("wb") as fh:
        fh.write(head)
        fh.truncate(len(head) + strings * 8 + 4096)
    return path


def main_() -> None:
    bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 9)
    )
    measure(
        "alias bomb",
        lambda: loads(
            "config:\n  llmkube:unused:\n" + "".join("    " + line + "\n" for line in bomb.splitlines()),
            "Pulumi.s.yaml",
        ),
    )
    measure("nesting", lambda: loads("a: " + "[" * 100_000 + "]" * 100_000, "Pulumi.s.yaml"))
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        measure("gguf 2^26 strings", lambda: read_gguf_file(str(sparse_gguf(d / "a.gguf", 1 << 26))))
        measure("gguf 1M strings", lambda: read_gguf_file(str(sparse_gguf(d / "b.gguf", MAX_STRINGS - 1))))
        real = write_model(
            d / "real.gguf",
            SynthShape(kind="llama", n_layer=2, n_embd=64, n_head=4, n_head_kv=2, n_ff=128, n_vocab=60000),
        )
        measure("gguf real header", lambda: read_gguf_file(str(real)))
        body = b"[" * 100_000 + b"]" * 100_000
        blob = struct.pack("<Q", len(body)) + body
        measure("safetensors deep", lambda: parse_safetensors_header(io.BytesIO(blob).read, len(blob)))
    os.environ["LLMKUBE_PLAN_TIME_FACTS"] = "off"

    def check() -> None:
        with contextlib.redirect_stdout(io.StringIO()):
            main(["check", str(ROOT / "stacks"), "--stack", "dev"])

    check()  # warm: imports
    measure("check dev stack", check)


if __name__ == "__main__":
    main_()
