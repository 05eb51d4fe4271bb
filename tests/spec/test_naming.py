"""Model object names are unique per stack: an inline model cannot silently stand in for another."""

from __future__ import annotations

import pytest

from llmkube_iac.spec import SpecError, load_stack_config

SITE = {"name": "lab", "jurisdiction": "DE"}
TINY = {"source": "hf://org/tiny-GGUF/tiny.gguf"}
OTHER = {"source": "hf://org/other-GGUF/other.gguf"}


def test_inline_model_cannot_reuse_a_stack_models_name():
    with pytest.raises(
        SpecError,
        match=r"services\[1\]\.model: model name 'chat-model' already names a different "
        r"model \(models\[0\]\)",
    ):
        load_stack_config(
            {
                "site": SITE,
                "models": [{"name": "chat-model", **OTHER}],
                "services": [{"name": "other", "model": "chat-model"}, {"name": "chat", "model": TINY}],
            }
        )


def test_two_inline_models_cannot_share_a_name():
    with pytest.raises(
        SpecError,
        match=r"services\[1\]\.model: model name 'm' already names a different model "
        r"\(services\[0\]\.model\)",
    ):
        load_stack_config(
            {
                "site": SITE,
                "services": [
                    {"name": "a", "model": {"name": "m", **TINY}},
                    {"name": "b", "model": {"name": "m", **OTHER}},
                ],
            }
        )


def test_the_same_model_declared_twice_is_one_model():
    cfg = load_stack_config(
        {
            "site": SITE,
            "models": [{"name": "m", **TINY}],
            "services": [
                {"name": "a", "model": {"name": "m", **TINY}},
                {"name": "b", "model": {"name": "m", **TINY}},
                {"name": "c", "model": "m"},
            ],
        }
    )
    assert {s.model_name for s in cfg.services} == {"m"}
