"""Shared fixtures: the repository root and small stack configs."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def repo_root() -> Path:
    return ROOT


def minimal_stack(**overrides) -> dict:
    """A valid one-service CPU stack; tests mutate it."""
    cfg = {
        "site": {"name": "test", "jurisdiction": "DE"},
        "models": [{"name": "tiny", "source": "hf://org/tiny-GGUF/tiny-Q4_K_M.gguf", "quantization": "Q4_K_M",
                    "totalParametersB": 0.5}],
        "services": [{"name": "chat", "model": "tiny"}],
    }
    cfg.update(overrides)
    return cfg
