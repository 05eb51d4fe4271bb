"""One Router stack (both zones' real LiteLLM proxies and the loopback upstreams) per test session, and the
peer site's real Router on demand."""

from __future__ import annotations

import pytest

from .peer_site import start_peer_site
from .stack import start_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    running = start_stack(tmp_path_factory.mktemp("router"))
    yield running
    running.stop()


@pytest.fixture(scope="session")
def peer_site(stack, tmp_path_factory):
    """The real peer site's Router (peer_site.py), started on first use and shared."""
    running = start_peer_site(tmp_path_factory.mktemp("hq"), stack)
    yield running
    running.stop()
