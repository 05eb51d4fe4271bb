"""Print the fit estimator's figures for the VRAM reference table's models: per model, Q4_K_M and BF16
weights at 8k and 32k context (llama.cpp rules, one slot, F16 KV), with the breakdown in GiB.

Run: PYTHONPATH=. python3 benchmarks/model_fit_table.py [--markdown]
Models whose published facts are incomplete print the facts they lack instead of a number.
"""

from __future__ import annotations

import sys

from llmkube_iac.modelinfo.catalog import REFERENCE_TABLE, catalog_info, load_catalog
from llmkube_iac.modelinfo.fit import GiB, kv_cache_bytes, llamacpp_compute_bytes, recurrent_state_bytes

TABLE = (*REFERENCE_TABLE, "qwen3-next-80b-a3b")


def row(name: str, quant: str, ctx: int) -> list[str]:
    info = catalog_info(name, quant)
    missing = info.missing_for_kv() + ([] if info.total_bytes else ["totalParametersB"])
    if missing:
        return [name, quant, str(ctx), "unknown: lacks " + ", ".join(missing), "", "", "", ""]
    kv = kv_cache_bytes(info, ctx)
    state = recurrent_state_bytes(info)
    compute = llamacpp_compute_bytes(info, ctx) if info.vocab_size and info.embedding_length else 0
    g = lambda b: f"{b / GiB:.2f}"  # noqa: E731
    total = info.total_bytes + kv + state + compute
    return [name, quant, str(ctx), g(total), g(info.total_bytes), g(kv), g(state), g(compute) if compute else "n/a"]


def main(argv: list[str]) -> int:
    load_catalog()
    head = ["model", "weights", "context", "total GiB", "weights", "KV", "recurrent state", "compute"]
    rows = [row(n, q, c) for n in TABLE for q in ("Q4_K_M", "BF16") for c in (8192, 32768)]
    if "--markdown" in argv:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for r in rows:
            print("| " + " | ".join(r) + " |")
    else:
        widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
        for r in [head] + rows:
            print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
