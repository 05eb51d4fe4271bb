"""Shared fixtures: the repository root and small stack configs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# CI runs are reproducible (same examples every run); local runs keep exploring new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def repo_root() -> Path:
    return ROOT


def minimal_stack(**overrides) -> dict:
    """A valid one-service CPU stack; tests mutate it."""
    cfg = {
        "site": {"name": "test", "jurisdiction": "DE"},
        "models": [
            {
                "name": "tiny",
                "source": "hf://org/tiny-GGUF/tiny-Q4_K_M.gguf",
                "quantization": "Q4_K_M",
                "totalParametersB": 0.5,
            }
        ],
        "services": [{"name": "chat", "model": "tiny"}],
    }
    cfg.update(overrides)
    return cfg
