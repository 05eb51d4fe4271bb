"""One Router stack (both zones' real LiteLLM proxies and the loopback upstreams) per test session."""

from __future__ import annotations

import pytest

from .stack import start_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    running = start_stack(tmp_path_factory.mktemp("router"))
    yield running
    running.stop()
