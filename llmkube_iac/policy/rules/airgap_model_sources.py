"""airgap-model-sources: in an air-gapped site model weights come only from internal stores, so no
model download reaches the internet. Each source scheme is judged against what the site declares
internal (mirrors, modelStores, hfEndpoint); an unknown scheme is refused, not guessed at."""

from __future__ import annotations

from ...modelinfo.sources import is_public_hub, parse_source
from ...spec import SiteSpec
from ..airgap_sites import air_gapped_sites, host_of
from ..base import Rule, Violation
from ..view import StackView


def check_model_sources(view: StackView, cfg: dict):
    for site in air_gapped_sites(view):
        entries = [(m.res, m.spec) for m in site.models] + [(s.res, s.model) for s in site.services if s.model]
        seen = set()
        for res, model in entries:
            if (res.urn, model.source) in seen:
                continue
            seen.add((res.urn, model.source))
            why = source_problem_at(site.spec, model.source, cfg)
            if why:
                yield Violation(
                    f"{res.describe()} (site {site.spec.name}, air-gapped): model source {model.source} {why}", res.urn
                )


def source_problem_at(site: SiteSpec, source: str, cfg: dict | None = None) -> str | None:
    """Why `source` is not reachable from inside air-gapped `site` (None: it is, or the site is connected).
    Placement asks the same question before it puts a service on a site."""
    if not site.air_gapped:
        return None
    cfg = cfg or {}
    stores = {host_of(s) for s in site.model_stores} | {host_of(h) for h in cfg.get("allowedHosts", [])}
    mirror_hosts = {host_of(m.mirror) for m in site.registry_mirrors}
    buckets = {s.removeprefix("s3://").split("/")[0] for s in site.model_stores if s.startswith("s3://")}
    buckets |= set(cfg.get("allowedBuckets", []))
    hf_host = host_of(site.hf_endpoint) if site.hf_endpoint else None
    return _source_problem(source, stores, mirror_hosts, buckets, hf_host)


def _source_problem(source: str, stores: set, mirror_hosts: set, buckets: set, hf_host: str | None) -> str | None:
    src = parse_source(source)
    if src.scheme in ("pvc", "file"):
        return None
    if src.scheme == "oci":
        return (
            None
            if (src.host or "").lower() in mirror_hosts | stores
            else f"is on registry {src.host}, not on the site's mirrors ({', '.join(sorted(mirror_hosts)) or 'none'})"
        )
    if src.scheme in ("http", "https"):
        return (
            None
            if (src.host or "").lower() in stores
            else f"is on host {src.host}, not one of the site's modelStores "
            f"({', '.join(sorted(stores)) or 'none declared'})"
        )
    if src.scheme == "s3":
        return (
            None
            if src.location in buckets
            else f"is in bucket {src.location}, not a declared internal bucket (modelStores s3://... entries)"
        )
    if src.scheme == "hf":
        if not hf_host:
            return (
                "is a Hugging Face repo but the site has no hfEndpoint (an internal HF mirror): "
                "it would reach huggingface.co"
            )
        if is_public_hub(hf_host):
            return f"would be fetched from {hf_host}, the public Hub, not an internal mirror"
        return None
    return f"has scheme {src.scheme}, which this rule does not know to be internal"


RULE = Rule(
    "airgap-model-sources",
    "In an air-gapped site model weights come only from internal stores: pvc://, "
    "file://, oci:// on a mirror, http(s) on the site's modelStores, hf:// only through the site's hfEndpoint.",
    "mandatory",
    "Copy the weights to an internal store and point `source` at it (pvc://claim/path, "
    "https://<modelStore>/..., oci://<mirror>/...), or set site.hfEndpoint to the internal Hugging Face mirror.",
    "stack",
    check_model_sources,
    {
        "allowedHosts": {"type": "array", "items": {"type": "string"}, "default": []},
        "allowedBuckets": {"type": "array", "items": {"type": "string"}, "default": []},
    },
)
