"""Revision pinning: hf:// branches and tags resolve to a commit at plan time through the site's mirror
(a loopback fake Hub, checked against the real huggingface_hub client), into the plan and the cache key."""

from __future__ import annotations

import time

import pytest

from llmkube_iac.modelinfo import revisions
from llmkube_iac.modelinfo.revisions import RevisionLookupError, lookup_commit, pin_source, resolve_revisions
from llmkube_iac.modelinfo.sources import parse_source
from llmkube_iac.spec import ModelSpec, SiteSpec
from tests.support.fake_hub import FakeHub

C1, C2 = "1" * 40, "a2" * 20
REPO = "Qwen/Qwen3-Tiny-GGUF"


@pytest.fixture
def hub():
    with FakeHub() as h:
        h.push(REPO, C1, {"tiny.gguf": b"one"})
        h.push(REPO, C1, ref="v1.0")
        yield h


def _site(hub=None, **kw) -> SiteSpec:
    return SiteSpec(name="s", jurisdiction="DE", hfEndpoint=hub.url if hub else None, **kw)


def test_the_fake_speaks_huggingface_hubs_protocol(hub):
    """The real client against the fake: the route and the `sha` field are huggingface_hub's own."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import RevisionNotFoundError

    api = HfApi(endpoint=hub.url, token=False)
    assert api.model_info(REPO, revision="main").sha == C1
    assert api.model_info(REPO).sha == C1
    assert api.model_info(REPO, revision="v1.0", expand=["sha"]).sha == C1
    with pytest.raises(RevisionNotFoundError):
        api.model_info(REPO, revision="nope")
    assert f"/api/models/{REPO}/revision/main" in [p.split("?")[0] for p in hub.requests]


def test_branch_tag_and_bare_source_resolve_to_the_commit(hub):
    site = _site(hub)
    assert lookup_commit(hub.url, REPO, "main") == C1
    pin = pin_source(site, f"hf://{REPO}/tiny.gguf")  # no revision: main
    assert (pin.requested, pin.commit, pin.unpinned_reason) == ("main", C1, None)
    assert pin.pinned_source == f"hf://{REPO}@{C1}/tiny.gguf" and pin.resolved_via == hub.url
    assert pin_source(site, f"hf://{REPO}@v1.0").pinned_source == f"hf://{REPO}@{C1}"
    assert hub.requests[-1] == f"/api/models/{REPO}/revision/v1.0?expand=sha"


def test_a_commit_is_already_pinned_and_needs_no_lookup(hub):
    pin = pin_source(_site(hub), f"hf://{REPO}@{C2.upper()}/tiny.gguf")
    assert pin.commit == C2 and pin.pinned_source == f"hf://{REPO}@{C2}/tiny.gguf" and hub.requests == []


def test_a_new_upstream_commit_is_a_new_cache_key(hub):
    site = _site(hub)
    before = pin_source(site, f"hf://{REPO}@main/tiny.gguf")
    hub.push(REPO, C2, {"tiny.gguf": b"two"})
    after = pin_source(site, f"hf://{REPO}@main/tiny.gguf")
    assert after.commit == C2
    keys = {parse_source(p.pinned_source).cache_key() for p in (before, after)}
    assert len(keys) == 2


def test_unpinned_with_the_reason_never_the_public_hub(hub, monkeypatch):
    import requests

    calls = []
    monkeypatch.setattr(requests.Session, "get", lambda *a, **k: calls.append(a) or pytest.fail("network"))
    src = f"hf://{REPO}/tiny.gguf"
    assert "no hfEndpoint" in pin_source(_site(), src).unpinned_reason
    public = SiteSpec(name="s", jurisdiction="DE", hfEndpoint="https://huggingface.co")
    assert "public Hub" in pin_source(public, src).unpinned_reason
    with pytest.raises(RevisionLookupError, match="public Hub"):
        lookup_commit("https://hf.co", REPO, "main")
    monkeypatch.setenv("LLMKUBE_PLAN_TIME_FACTS", "off")
    assert "LLMKUBE_PLAN_TIME_FACTS=off" in pin_source(_site(hub), src).unpinned_reason
    assert calls == [] and pin_source(_site(hub), src).pinned_source == src


@pytest.mark.parametrize("rev,why", [("nope", "RevisionNotFound"), ("main", "RepoNotFound")])
def test_lookup_failures_leave_the_source_unpinned_and_say_why(hub, rev, why):
    repo = REPO if why == "RevisionNotFound" else "Qwen/missing"
    pin = pin_source(_site(hub), f"hf://{repo}@{rev}/tiny.gguf")
    assert pin.commit is None and why in pin.unpinned_reason and "HTTP 404" in pin.unpinned_reason


def test_a_malformed_or_oversized_answer_is_not_a_pin(hub, monkeypatch):
    hub.sha_override = "../../etc"
    with pytest.raises(RevisionLookupError, match="no 40-hex commit"):
        lookup_commit(hub.url, REPO, "main")
    hub.sha_override = None
    monkeypatch.setattr(revisions, "MAX_BODY", 4096)
    hub.pad_body = 10_000
    with pytest.raises(RevisionLookupError, match="larger than 4096 bytes"):
        lookup_commit(hub.url, REPO, "main")


def test_redirects_only_on_the_mirrors_own_origin_and_bounded(hub):
    with FakeHub() as other:
        other.push(REPO, C2)
        hub.redirects = [f"{other.url}/api/models/{REPO}/revision/main"]
        with pytest.raises(RevisionLookupError, match="another origin"):
            lookup_commit(hub.url, REPO, "main")
        assert other.requests == []
    hub.push("Qwen/renamed", C2)
    hub.redirects = ["/api/models/Qwen/renamed/revision/main"]  # a repo the mirror moved: followed
    assert lookup_commit(hub.url, REPO, "main") == C2
    hub.redirects = [f"{hub.url}/api/models/{REPO}/revision/main"] * 10
    with pytest.raises(RevisionLookupError, match="more than 3 redirects"):
        lookup_commit(hub.url, REPO, "main")


@pytest.mark.parametrize("fault", ["delay", "drip"])
def test_a_slow_mirror_is_given_up_on_in_bounded_time(hub, fault):
    if fault == "delay":
        hub.delay = 5
    else:
        hub.drip = 0.2  # one byte every 0.2 s: each read is quick, the whole answer would take a minute
    started = time.monotonic()
    pin = pin_source(_site(hub), f"hf://{REPO}/tiny.gguf", timeout=0.5)
    assert pin.commit is None and "0.5 s" in pin.unpinned_reason
    assert time.monotonic() - started < 3


@pytest.mark.parametrize("rev", ["..", "a/../b", "ma%69n", "main%2F..", "main\n", "refs/pr/1", " main", "mäin"])
def test_hostile_revisions_are_refused_naming_the_field(rev):
    with pytest.raises(ValueError, match="revision" if "/" not in rev else "revision|file path"):
        ModelSpec(source=f"hf://{REPO}@{rev}/tiny.gguf")
    with pytest.raises(RevisionLookupError, match="revision"):
        lookup_commit("http://127.0.0.1:9", REPO, rev)


@pytest.mark.parametrize(
    "source",
    [
        "hf://org/../x.gguf",
        "hf://../repo",
        "hf://org/repo/../../x.gguf",
        "hf://org/repo/a//b.gguf",
        "hf://org/re--po",
        "hf://org/repo/x\n.gguf",
        "hf://org/repo/x.gguf?download=1",
    ],
)
def test_hostile_repos_and_paths_are_refused(source):
    with pytest.raises(ValueError, match="name|file path"):
        ModelSpec(source=source)


def test_resolve_revisions_one_lookup_per_repo_and_revision(hub):
    models = {
        "a": ModelSpec(name="a", source=f"hf://{REPO}/tiny.gguf"),
        "b": ModelSpec(name="b", source=f"hf://{REPO}@main/other.gguf"),
        "c": ModelSpec(name="c", source="https://store.local/x.gguf"),
    }
    pins = resolve_revisions(_site(hub), models)
    assert set(pins) == {"a", "b"} and pins["a"].commit == pins["b"].commit == C1
    assert pins["b"].pinned_source == f"hf://{REPO}@{C1}/other.gguf" and pins["a"].source.endswith("tiny.gguf")
    assert len(hub.requests) == 1
