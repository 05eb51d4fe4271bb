"""inspect_source: header facts from wherever the weights are, reading only headers.

Why one entry point: the CLI, the `Model` component (plan-time outputs, cache PVC size) and the
fit estimator all ask the same question of a local path, file://, pvc://, http(s) or hf source.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .gguf_header import GGUFError, info_from_header, read_gguf_file, read_header
from .info import ModelInfo
from .remote import RangeReader, fetch_small, hf_file_url, hf_headers
from .safetensors_header import add_tensors, apply_config, parse_safetensors_header, read_config
from .sources import parse_source

PLAN_TIME_TIMEOUT = 3.0


def pvc_root() -> str:
    """Where pvc://claim is mounted in a pod (`LLMKUBE_PVC_ROOT`, default /models-src)."""
    return os.environ.get("LLMKUBE_PVC_ROOT", "/models-src")


def local_path(source: str) -> Path | None:
    """The filesystem path for a plain path, file:// or pvc:// source (None for remote sources)."""
    if "://" not in source:
        return Path(source)
    src = parse_source(source)
    if src.scheme == "file":
        return Path(src.path)
    if src.scheme == "pvc":
        return Path(pvc_root()) / src.location / src.path
    return None


def _inspect_local(path: Path, source: str) -> ModelInfo:
    if path.is_dir():
        info = ModelInfo(source=source, format="safetensors")
        cfg = path / "config.json"
        if cfg.exists():
            apply_config(info, read_config(cfg))
        files = sorted(path.glob("*.safetensors"))
        for f in files:
            with f.open("rb") as fh:
                add_tensors(info, parse_safetensors_header(fh.read, f.stat().st_size))
        if not files and not cfg.exists():
            ggufs = sorted(path.glob("*.gguf"))
            if len(ggufs) == 1:
                return read_gguf_file(str(ggufs[0]), source)
            raise ValueError(f"{path}: no config.json, *.safetensors or single *.gguf to inspect")
        return info
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic == b"GGUF" or path.suffix == ".gguf":
        return read_gguf_file(str(path), source)
    if path.suffix == ".safetensors":
        info = ModelInfo(source=source, format="safetensors", file_size=path.stat().st_size)
        with path.open("rb") as fh:
            add_tensors(info, parse_safetensors_header(fh.read, info.file_size))
        cfg = path.parent / "config.json"
        if cfg.exists():
            apply_config(info, read_config(cfg))
        return info
    raise ValueError(f"{path}: not a GGUF or safetensors file (magic {magic!r})")


def inspect_url(url: str, source: str, headers: dict | None = None, timeout: float = 10.0) -> ModelInfo:
    """Remote header over Range requests: GGUF by magic, else safetensors."""
    with RangeReader(url, headers, timeout) as rr:
        first = rr.read(4)
        if first == b"GGUF":
            replay = [first]

            def read(n: int) -> bytes:
                if replay:
                    head = replay.pop()
                    return head + rr.read(n - len(head)) if n > len(head) else head[:n]
                return rr.read(n)

            meta, tensors, _ = read_header(read, rr.size)
            info = info_from_header(meta, tensors, source, rr.size)
        else:
            buf = [first]

            def read_st(n: int) -> bytes:
                if buf:
                    head = buf.pop()
                    return head + rr.read(n - len(head))
                return rr.read(n)

            info = ModelInfo(source=source, format="safetensors", file_size=rr.size)
            add_tensors(info, parse_safetensors_header(read_st, rr.size))
        info.__dict__["_requests"], info.__dict__["_bytes_read"] = rr.requests, rr.bytes_read
    return info


def _inspect_hf_repo(repo: str, revision: str | None, source: str, timeout: float) -> ModelInfo:
    headers = hf_headers()
    info = ModelInfo(source=source, format="safetensors")
    apply_config(info, json.loads(fetch_small(hf_file_url(repo, "config.json", revision), headers, timeout)))
    try:
        index = json.loads(fetch_small(hf_file_url(repo, "model.safetensors.index.json", revision), headers, timeout))
        files = sorted(set(index.get("weight_map", {}).values()))
    except Exception:  # noqa: BLE001 - single-file repos have no index
        files = ["model.safetensors"]
    for f in files:
        part = inspect_url(hf_file_url(repo, f, revision), source, headers, timeout)
        info.parameter_count = (info.parameter_count or 0) + (part.parameter_count or 0)
        info.total_bytes = (info.total_bytes or 0) + (part.total_bytes or 0)
        info.expert_bytes = (info.expert_bytes or 0) + (part.expert_bytes or 0) or None
        for k, v in part.dtype_bytes.items():
            info.dtype_bytes[k] = info.dtype_bytes.get(k, 0) + v
    return info


def inspect_source(source: str, timeout: float = 10.0) -> ModelInfo:
    """Header facts of a model: local path, file://, pvc://, http(s):// (Range), hf:// (HF_ENDPOINT), catalog:NAME."""
    if source.startswith("catalog:"):
        from .catalog import catalog_info

        return catalog_info(source.split(":", 1)[1])
    path = local_path(source)
    if path is not None:
        return _inspect_local(path, source)
    src = parse_source(source)
    if src.scheme in ("http", "https"):
        return inspect_url(src.uri, src.uri, timeout=timeout)
    if src.scheme == "hf":
        if src.path:
            info = inspect_url(hf_file_url(src.location, src.path, src.revision), src.uri, hf_headers(), timeout)
            if src.path.endswith(".safetensors"):
                try:
                    cfg = fetch_small(hf_file_url(src.location, "config.json", src.revision), hf_headers(), timeout)
                    apply_config(info, json.loads(cfg))
                except Exception:  # noqa: BLE001 - the config is optional for a single file
                    pass
            return info
        return _inspect_hf_repo(src.location, src.revision, src.uri, timeout)
    raise ValueError(
        f"cannot inspect {src.scheme}:// sources in place; fetch the file first "
        f"(llmkube-iac fetch {source} --dest DIR) and inspect DIR"
    )


def facts_at_plan_time(model) -> ModelInfo | None:
    """Header facts if the weights are reachable now (local file, mirror, hub), else None. Never raises."""
    try:
        src = model.parsed_source
        if src.scheme in ("s3", "oci"):
            return None
        if src.scheme == "pvc" and not (local_path(src.uri) or Path("/nonexistent")).exists():
            return None
        return inspect_source(src.uri, timeout=PLAN_TIME_TIMEOUT)
    except (OSError, ValueError, GGUFError, KeyError, TypeError, ImportError):
        return None
    except Exception as exc:  # noqa: BLE001 - requests' errors and anything else from the network
        if exc.__class__.__module__.startswith(("requests", "urllib3")):
            return None
        return None
