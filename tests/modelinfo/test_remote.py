"""The HTTP facts every reader of model files shares: Hugging Face URLs and Content-Range."""

from __future__ import annotations

import pytest

from llmkube_iac.modelinfo.remote import content_range_total, hf_file_url, hf_headers, hf_token


@pytest.mark.parametrize(
    "repo, filename, revision",
    [
        ("org/tiny-GGUF", "tiny-Q4_K_M.gguf", None),
        ("org/tiny-GGUF", "sub dir/tiny #1.gguf", "main"),
        ("Qwen/Qwen3-30B-A3B-GGUF", "Qwen3-30B-A3B-Q4_K_M.gguf", "refs/pr/1"),
        ("org/repo", "ünïcode/ä.safetensors", "0123456789abcdef0123456789abcdef01234567"),
    ],
)
def test_hf_file_url_is_what_huggingface_hub_builds(repo, filename, revision, monkeypatch):
    hub = pytest.importorskip("huggingface_hub")
    monkeypatch.setenv("HF_ENDPOINT", "https://hf.site.local/")
    ours = hf_file_url(repo, filename, revision)
    assert ours == hub.hf_hub_url(repo, filename, revision=revision, endpoint="https://hf.site.local")
    assert ours.startswith("https://hf.site.local/") and "//" not in ours.removeprefix("https://")
    # an explicit endpoint (a site's mirror at plan time) wins over the environment
    assert hf_file_url(repo, filename, revision, endpoint="http://mirror:8080/") == hub.hf_hub_url(
        repo, filename, revision=revision, endpoint="http://mirror:8080"
    )


def test_hf_token_from_either_variable(monkeypatch):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    assert hf_token() is None and hf_headers() == {}
    monkeypatch.setenv("HUGGING_FACE_HUB_TOKEN", "hf_old")
    assert hf_headers() == {"Authorization": "Bearer hf_old"}
    monkeypatch.setenv("HF_TOKEN", "hf_new")
    assert hf_token() == "hf_new"


@pytest.mark.parametrize(
    "header, total",
    [
        ("bytes 0-1048575/40000000000", 40000000000),
        ("bytes */1234", 1234),
        ("bytes 0-99/*", None),  # the server does not know the length
        ("bytes 0-99/12a", None),
        ("bytes 0-99/²", None),  # a Unicode digit is no length
        ("bytes 0-99", None),
        ("", None),
        (None, None),
    ],
)
def test_content_range_total(header, total):
    assert content_range_total(header) == total
