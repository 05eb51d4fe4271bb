"""Fetch throughput: 1 GiB from a loopback server, fetched+verified vs a plain streaming copy; then
a kill at a random point and a resume that must transfer only the missing bytes.

    python benchmarks/fetch_throughput.py [--size-mib 1024]
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing as mp
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from llmkube_iac.fetch import fetch  # noqa: E402
from llmkube_iac.fetch.progress import silent  # noqa: E402
from tests.support.file_server import FileServer  # noqa: E402


def plain_copy(url: str, out: Path) -> None:
    with requests.get(url, stream=True) as r, open(out, "wb") as fh:
        while block := r.raw.read(1 << 20):
            fh.write(block)


def _serve(root, port_q):
    with FileServer(root) as srv:
        port_q.put(srv.port)
        while True:
            time.sleep(3600)


class Remote:
    """The server in its own process (as in production: not competing for this process's GIL)."""

    def __init__(self, root):
        ctx = mp.get_context("fork")
        q = ctx.Queue()
        self.proc = ctx.Process(target=_serve, args=(root, q), daemon=True)
        self.proc.start()
        self.port = q.get(timeout=10)

    def url(self, name):
        return f"http://127.0.0.1:{self.port}/{name}"

    @property
    def bytes_sent(self):
        return requests.get(self.url("__stats__")).json()["bytes_sent"]


def _child(url, dest):
    fetch(url, dest, progress=silent)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=1024)
    n = ap.parse_args().size_mib << 20
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "src").mkdir()
        with open(tmp / "src" / "w.bin", "wb") as fh:
            for _ in range(n >> 20):
                fh.write(os.urandom(1 << 20))
        sha = hashlib.sha256((tmp / "src" / "w.bin").read_bytes()).hexdigest()
        srv = Remote(tmp / "src")
        if True:
            url = srv.url("w.bin")
            plain_copy(url, tmp / "warm")  # page cache warm-up
            rates = {"plain": [], "fetch": []}
            for i in range(3):
                t0 = time.perf_counter()
                plain_copy(url, tmp / f"plain{i}")  # a new file each time, like the fetch
                rates["plain"].append(n / (time.perf_counter() - t0))
                t0 = time.perf_counter()
                fetch(url, tmp / f"c{i}", sha, progress=silent)
                rates["fetch"].append(n / (time.perf_counter() - t0))
            p, f = max(rates["plain"]), max(rates["fetch"])
            print(f"plain streaming copy : {p / 2**20:8.0f} MiB/s (best of 3)")
            print(f"fetch + sha256 verify: {f / 2**20:8.0f} MiB/s (best of 3)  ratio {f / p:.1%}")
            # kill at a random point, then resume
            dest = tmp / "k"
            proc = mp.get_context("fork").Process(target=_child, args=(url, dest))
            sent0 = srv.bytes_sent
            proc.start()
            time.sleep(random.uniform(0.1, 0.5))
            proc.kill()
            proc.join()
            partial = dest / ".w.bin.partial"
            have = partial.stat().st_size if partial.exists() else 0
            sent1 = srv.bytes_sent
            fetch(url, dest, sha, progress=silent)
            resumed = srv.bytes_sent - sent1
            print(
                f"killed after {have} bytes on disk ({sent1 - sent0} sent); resume transferred {resumed} bytes; "
                f"missing were {n - have}: {'OK' if resumed == n - have else 'MISMATCH'}"
            )
        srv.proc.kill()


if __name__ == "__main__":
    main()
