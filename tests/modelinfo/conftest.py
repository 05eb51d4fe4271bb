"""Tiny generated GGUF models, once per session."""

from __future__ import annotations

import pytest

from tests.support.synth import SynthShape, write_model

SHAPES = {
    "llama": SynthShape(kind="llama", n_layer=8, n_embd=512, n_head=8, n_head_kv=2, n_ff=1024, n_vocab=1024),
    "moe": SynthShape(kind="moe", n_layer=8, n_embd=512, n_head=8, n_head_kv=2, n_ff=1024, n_vocab=1024),
    "gemma3": SynthShape(
        kind="gemma3", n_layer=8, n_embd=512, n_head=8, n_head_kv=2, n_ff=1024, n_vocab=1024, sliding_window=512
    ),
    "q4_0": SynthShape(
        kind="llama", n_layer=4, n_embd=512, n_head=8, n_head_kv=2, n_ff=1024, n_vocab=1024, weight_type="Q4_0"
    ),
    "qwen35": SynthShape(kind="qwen35", n_layer=8, n_embd=256, n_head=4, n_head_kv=2, n_ff=512, n_vocab=1024),
    "gemma4": SynthShape(
        kind="gemma4", n_layer=6, n_embd=256, n_head=4, n_head_kv=2, n_ff=512, n_vocab=1024, sliding_window=512
    ),
    "deepseek2": SynthShape(kind="deepseek2", n_layer=4, n_embd=256, n_head=4, n_head_kv=1, n_ff=512, n_vocab=1024),
}


@pytest.fixture(scope="session")
def models(tmp_path_factory) -> dict:
    d = tmp_path_factory.mktemp("synth")
    return {k: write_model(d / f"{k}.gguf", s) for k, s in SHAPES.items()}


@pytest.fixture(scope="session")
def big_header_model(tmp_path_factory):
    """A header > 1 MiB (60k-token vocabulary), like real models' tokenizers."""
    d = tmp_path_factory.mktemp("synthbig")
    return write_model(
        d / "bigvocab.gguf",
        SynthShape(kind="llama", n_layer=2, n_embd=64, n_head=4, n_head_kv=2, n_ff=128, n_vocab=60000),
    )
