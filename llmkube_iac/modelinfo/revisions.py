"""Pin hf:// sources to a commit at plan time, through the site's own Hugging Face mirror.

Why: `hf://org/repo@main` (or no revision at all, which means main) names whatever main points at
when the download Job happens to run; a new upstream commit would silently change the weights of a
running service, and two replicas' caches could differ. Resolving the branch or tag to its commit
sha while planning makes the plan say exactly which bytes it serves: the commit goes into the
source the download Job fetches and so into the cache key (a new commit is a new cache entry).

The lookup is huggingface_hub's own route (`HfApi.model_info(repo, revision=rev)`:
`GET {endpoint}/api/models/{repo}/revision/{quote(rev, safe='')}`, answer field `sha`), sent only
to `site.hfEndpoint`, never to the public Hub. Redirects are followed only on the mirror's own
origin, bodies are capped and every lookup has a deadline. When there is no mirror, the lookup
fails or plan-time reads are off (`LLMKUBE_PLAN_TIME_FACTS=off`), the source stays unpinned and
the pin record says why (the `model-revision-pinning` rule refuses that at air-gapped sites).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from urllib.parse import quote, urljoin, urlsplit

from ..spec import ModelSpec, SiteSpec
from .plan_time import plan_time_reads_on
from .remote import hf_headers
from .sources import COMMIT, check_revision, is_public_hub, parse_source

LOOKUP_TIMEOUT = 3.0  # seconds for connect, for each read, and for the whole lookup (redirects included)
MAX_BODY = 1 << 20  # an answer with `expand=sha` is a few hundred bytes; a mirror may send the full info
MAX_REDIRECTS = 3


class RevisionLookupError(Exception):
    """The mirror could not say which commit a revision is (the message says why, for the plan)."""


@dataclass(frozen=True)
class RevisionPin:
    """How one hf source was (or was not) pinned; recorded on the Model component and in plan.json."""

    source: str  # as written in the spec
    requested: str  # the revision asked for ("main" when none was written)
    commit: str | None = None  # the 40-hex commit it names, when known
    resolved_via: str | None = None  # the mirror that answered ("" for a source that was already a commit)
    unpinned_reason: str | None = None

    @property
    def pinned_source(self) -> str:
        """The source to plan with: at the commit when known, else as written."""
        return parse_source(self.source).at_revision(self.commit).uri if self.commit else self.source

    def to_dict(self) -> dict:
        """Unknown fields are left out (the Pulumi wire drops nulls: both sides see the same record)."""
        return {k: v for k, v in {**asdict(self), "pinnedSource": self.pinned_source}.items() if v is not None}


def lookup_commit(endpoint: str, repo: str, revision: str, timeout: float = LOOKUP_TIMEOUT) -> str:
    """The commit `revision` of model repo `repo` names on the mirror at `endpoint` (huggingface_hub's
    model_info route). Raises RevisionLookupError with the reason; never contacts another origin.

    Bounded: a daemon thread does the HTTP work and is given up on after `timeout` (requests' own
    timeouts bound each socket read, not a mirror that drips one byte at a time)."""
    try:  # the same refusals as a spec: nothing odd reaches a URL
        if parse_source(f"hf://{repo}").path:
            raise ValueError(f"{repo!r} is not an org/repo name")
        check_revision(revision, f"hf://{repo}@{revision}")
    except ValueError as exc:
        raise RevisionLookupError(str(exc)) from None
    if is_public_hub(endpoint):
        raise RevisionLookupError(f"{endpoint} is the public Hub, not a mirror; plan time never contacts it")
    origin = urlsplit(endpoint)
    if origin.scheme not in ("http", "https") or not origin.hostname:
        raise RevisionLookupError(f"hfEndpoint {endpoint!r} is not an http(s) URL")
    url = f"{endpoint.rstrip('/')}/api/models/{repo}/revision/{quote(revision, safe='')}"
    outcome: list = []
    worker = threading.Thread(target=lambda: outcome.append(_outcome(_lookup, url, origin, timeout)), daemon=True)
    worker.start()
    worker.join(timeout)
    if not outcome:
        raise RevisionLookupError(f"{url}: no answer within {timeout:g} s")
    ok, value = outcome[0]
    if not ok:
        raise value
    return value


def _outcome(fn, *args) -> tuple[bool, object]:
    try:
        return True, fn(*args)
    except RevisionLookupError as exc:
        return False, exc
    except Exception as exc:  # noqa: BLE001 — any failure of the mirror leaves the source unpinned, with why
        return False, RevisionLookupError(f"{args[0]}: {type(exc).__name__}: {exc}")


def _lookup(url: str, origin, timeout: float) -> str:
    import requests

    session = requests.Session()  # honours REQUESTS_CA_BUNDLE / proxies like every other plan-time read
    deadline = time.monotonic() + timeout
    try:
        for _ in range(MAX_REDIRECTS + 1):
            left = deadline - time.monotonic()
            if left <= 0:
                raise RevisionLookupError(f"{url}: no answer within {timeout:g} s")
            resp = session.get(
                url,
                params={"expand": "sha"},
                headers=hf_headers(),
                timeout=(left, left),
                allow_redirects=False,
                stream=True,
            )
            with resp:
                if resp.is_redirect:
                    target = urljoin(url, resp.headers.get("Location", ""))
                    dest = urlsplit(target)
                    if (dest.scheme, dest.netloc) != (origin.scheme, origin.netloc):
                        raise RevisionLookupError(
                            f"{url}: the mirror redirects to {dest.scheme}://{dest.netloc}, "
                            "another origin; not followed"
                        )
                    url = target
                    continue
                if resp.status_code != 200:
                    code = resp.headers.get("X-Error-Code") or resp.reason
                    raise RevisionLookupError(f"{url}: HTTP {resp.status_code} ({code})")
                body = _read_capped(resp, deadline, url)
            return _commit_of(body, url)
        raise RevisionLookupError(f"{url}: more than {MAX_REDIRECTS} redirects")
    except requests.RequestException as exc:
        raise RevisionLookupError(f"{url}: {type(exc).__name__}: {exc}") from None
    finally:
        session.close()


def _read_capped(resp, deadline: float, url: str) -> bytes:
    data = b""
    for chunk in resp.iter_content(4 << 10):
        data += chunk
        if len(data) > MAX_BODY:
            raise RevisionLookupError(f"{url}: answer larger than {MAX_BODY} bytes; not a model-info reply")
        if time.monotonic() > deadline:
            raise RevisionLookupError(f"{url}: answer still arriving after the deadline")
    return data


def _commit_of(body: bytes, url: str) -> str:
    import json

    try:
        sha = json.loads(body).get("sha")
    except (ValueError, AttributeError):
        raise RevisionLookupError(f"{url}: the answer is not a JSON object") from None
    if not isinstance(sha, str) or not COMMIT.fullmatch(sha):
        raise RevisionLookupError(f"{url}: the answer carries no 40-hex commit `sha` ({str(sha)[:60]!r})")
    return sha.lower()


def pin_source(site: SiteSpec, source: str, timeout: float = LOOKUP_TIMEOUT) -> RevisionPin | None:
    """The pin record of one source (None for sources that are not hf://)."""
    src = parse_source(source)
    if src.scheme != "hf":
        return None
    requested = src.revision or "main"
    if src.pinned:
        return RevisionPin(source, requested, src.revision, "")
    why, endpoint = _why_no_lookup(site), site.hf_endpoint or ""
    if why:
        return RevisionPin(source, requested, unpinned_reason=why)
    try:
        commit = lookup_commit(endpoint, src.location, requested, timeout)
    except RevisionLookupError as exc:
        return RevisionPin(source, requested, unpinned_reason=f"the mirror lookup failed: {exc}")
    return RevisionPin(source, requested, commit, endpoint.rstrip("/"))


def _why_no_lookup(site: SiteSpec) -> str | None:
    if not plan_time_reads_on():
        return "plan-time lookups are off (LLMKUBE_PLAN_TIME_FACTS=off)"
    if not site.hf_endpoint:
        return "the site declares no hfEndpoint (plan time never contacts the public Hub)"
    if is_public_hub(site.hf_endpoint):
        return f"site.hfEndpoint {site.hf_endpoint} is the public Hub, not a mirror (never contacted at plan time)"
    return None


def resolve_revisions(site: SiteSpec, models: dict[str, ModelSpec]) -> dict[str, RevisionPin]:
    """Pin records by model name for every hf:// model; one lookup per (repo, revision), in parallel."""
    wanted = {name: m.source for name, m in models.items() if parse_source(m.source).scheme == "hf"}
    if not wanted:
        return {}
    keys = {_lookup_key(s) for s in wanted.values()}
    with ThreadPoolExecutor(max_workers=min(8, len(keys))) as pool:
        by_key = dict(zip(keys, pool.map(lambda k: pin_source(site, f"hf://{k[0]}@{k[1]}"), keys), strict=True))
    out = {}
    for name, source in wanted.items():
        found = by_key[_lookup_key(source)]
        if found is None:  # not hf:// (cannot happen: `wanted` holds hf sources only)
            continue
        out[name] = RevisionPin(source, found.requested, found.commit, found.resolved_via, found.unpinned_reason)
    return out


def _lookup_key(source: str) -> tuple[str, str]:
    src = parse_source(source)
    return src.location, src.revision or "main"


def pinned_sources(pins: dict[str, RevisionPin]) -> dict[str, str]:
    """Model name -> source at its commit, for the pins that have one (plan.stack.pin_sources applies them)."""
    return {name: pin.pinned_source for name, pin in pins.items() if pin.commit}
