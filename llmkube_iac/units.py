"""Byte units, spelled once: sizes in specs are binary GiB (what drivers, `free` and Kubernetes'
`Gi` suffix mean), so every conversion between bytes and GiB goes through this constant."""

from __future__ import annotations

GIB = 1 << 30  # bytes in one GiB (2**30, also written 1024 ** 3)
