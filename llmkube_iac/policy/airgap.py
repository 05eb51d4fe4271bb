"""Air-gap rules: in an air-gapped site nothing may reach the internet — not an image pull, not a
model download, not a chart fetch, not a pod's egress. Each rule reads the site's own declaration
of what is internal (mirrors, stores, HF mirror, chart registry, egress CIDRs)."""
from __future__ import annotations

from urllib.parse import urlsplit

from ..modelinfo.sources import parse_source
from ..plan.images import split_registry
from .base import Rule, Violation
from .view import SiteView, StackView

_LOCAL_CHART_PREFIXES = ("./", "../", "/", "file://")


def _air_gapped(view: StackView, cfg: dict) -> list[SiteView]:
    return [s for s in view.sites.values() if s.spec.air_gapped]


def _host(entry: str) -> str:
    """`registry.site.local/mirror` or `http://store:9000/x` -> the host part."""
    if "://" in entry:
        return (urlsplit(entry).hostname or "").lower()
    return entry.split("/")[0].split(":")[0].lower()


def mirror_prefixes(site: SiteView, cfg: dict) -> list[str]:
    return [m.mirror.rstrip("/") + "/" for m in site.spec.registry_mirrors] + \
           [r.rstrip("/") + "/" for r in cfg.get("extraRegistries", [])]


def check_images(view: StackView, cfg: dict):
    for site in _air_gapped(view, cfg):
        prefixes = mirror_prefixes(site, cfg)
        for res, image in site.images():
            if not any(image.startswith(p) for p in prefixes):
                yield Violation(
                    f"{res.describe()} (site {site.spec.name}, air-gapped) uses image {image} from "
                    f"{split_registry(image)[0]}, not from the site's mirrors ({', '.join(p[:-1] for p in prefixes)})",
                    res.urn)


def check_model_sources(view: StackView, cfg: dict):
    for site in _air_gapped(view, cfg):
        stores = {_host(s) for s in site.spec.model_stores} | {_host(h) for h in cfg.get("allowedHosts", [])}
        mirror_hosts = {_host(m.mirror) for m in site.spec.registry_mirrors}
        buckets = {s.removeprefix("s3://").split("/")[0] for s in site.spec.model_stores if s.startswith("s3://")}
        buckets |= set(cfg.get("allowedBuckets", []))
        hf_host = _host(site.spec.hf_endpoint) if site.spec.hf_endpoint else None
        entries = [(m.res, m.spec) for m in site.models] + [(s.res, s.model) for s in site.services if s.model]
        seen = set()
        for res, model in entries:
            if (res.urn, model.source) in seen:
                continue
            seen.add((res.urn, model.source))
            why = _source_problem(model.source, stores, mirror_hosts, buckets, hf_host)
            if why:
                yield Violation(f"{res.describe()} (site {site.spec.name}, air-gapped): model source {model.source} "
                                f"{why}", res.urn)


def _source_problem(source: str, stores: set, mirror_hosts: set, buckets: set, hf_host: str | None) -> str | None:
    src = parse_source(source)
    if src.scheme in ("pvc", "file"):
        return None
    if src.scheme == "oci":
        return None if (src.host or "").lower() in mirror_hosts | stores else \
            f"is on registry {src.host}, not on the site's mirrors ({', '.join(sorted(mirror_hosts)) or 'none'})"
    if src.scheme in ("http", "https"):
        return None if (src.host or "").lower() in stores else \
            f"is on host {src.host}, not one of the site's modelStores ({', '.join(sorted(stores)) or 'none declared'})"
    if src.scheme == "s3":
        return None if src.location in buckets else \
            f"is in bucket {src.location}, not a declared internal bucket (modelStores s3://... entries)"
    if src.scheme == "hf":
        if not hf_host:
            return "is a Hugging Face repo but the site has no hfEndpoint (an internal HF mirror): it would reach huggingface.co"
        if hf_host in ("huggingface.co", "hf.co") or hf_host.endswith(".huggingface.co"):
            return f"would be fetched from {hf_host}, the public Hub, not an internal mirror"
        return None
    return f"has scheme {src.scheme}, which this rule does not know to be internal"


def check_charts(view: StackView, cfg: dict):
    for site in _air_gapped(view, cfg):
        hosts = {_host(m.mirror) for m in site.spec.registry_mirrors} | {_host(r) for r in cfg.get("allowedRegistries", [])}
        if site.spec.operators.chart_registry:
            hosts.add(_host(site.spec.operators.chart_registry))
        for res in site.charts:
            chart = str(res.props.get("chart") or "")
            repo = str((res.props.get("repositoryOpts") or {}).get("repo") or "")
            ref = f"{repo.rstrip('/')}/{chart}" if repo else chart
            if repo and not repo.startswith("oci://"):
                yield Violation(f"chart {res.name} (site {site.spec.name}, air-gapped) comes from Helm repository {repo}: "
                                "only internal OCI registries or local paths are allowed", res.urn)
            elif ref.startswith("oci://"):
                host = _host(ref.removeprefix("oci://"))
                if host not in hosts:
                    yield Violation(f"chart {res.name} (site {site.spec.name}, air-gapped) comes from {ref}; registry "
                                    f"{host} is not internal ({', '.join(sorted(hosts)) or 'none declared'})", res.urn)
            elif "://" in ref or not ref.startswith(_LOCAL_CHART_PREFIXES):
                yield Violation(f"chart {res.name} (site {site.spec.name}, air-gapped) reference {ref or '(none)'} is "
                                "neither an internal oci:// chart nor a local path", res.urn)


def _allow_all(rule: dict) -> bool:
    peers = rule.get("to")
    if not peers:
        return True  # no `to`: every destination
    return any(p.get("ipBlock", {}).get("cidr") in ("0.0.0.0/0", "::/0") for p in peers) or \
        any(p == {"namespaceSelector": {}} for p in peers)


def check_egress(view: StackView, cfg: dict):
    for site in view.sites.values():
        if not (site.spec.air_gapped or site.spec.deny_egress or cfg.get("allSites")):
            continue
        namespaces = sorted({(r.props.get("metadata") or {}).get("namespace") or site.spec.namespace
                             for r in site.objects if r.kind not in ("Namespace", "PriorityClass", "ClusterRole",
                                                                    "ClusterRoleBinding", "CustomResourceDefinition")})
        policies = [r for r in site.objects if r.kind == "NetworkPolicy"]
        for ns in namespaces:
            denies = [p for p in policies
                      if ((p.props.get("metadata") or {}).get("namespace") or site.spec.namespace) == ns
                      and (p.props.get("spec") or {}).get("podSelector") == {}
                      and "Egress" in ((p.props.get("spec") or {}).get("policyTypes") or [])]
            if not denies:
                yield Violation(f"namespace {ns} (site {site.spec.name}) has no default-deny egress NetworkPolicy "
                                "(podSelector: {}, policyTypes: [Egress])", site.res.urn)
                continue
            for p in denies:
                for i, rule in enumerate((p.props.get("spec") or {}).get("egress") or []):
                    if _allow_all(rule):
                        yield Violation(f"{p.describe()} (site {site.spec.name}) egress[{i}] allows every destination: "
                                        "the allowlist must name DNS, in-namespace peers and internal CIDRs", p.urn)


RULES = [
    Rule("airgap-images", "In an air-gapped site every image (containers, init, ephemeral, image volumes) comes "
         "from the site's registry mirrors.", "mandatory",
         "Mirror the image into the site's registry and reference it there (site.registryMirrors rewrites the "
         "pinned images of the runtimes; a service `image` override must already point at the mirror).",
         "stack", check_images,
         {"extraRegistries": {"type": "array", "items": {"type": "string"}, "default": [],
                              "description": "More internal registry prefixes, e.g. registry.site.local/team"}}),
    Rule("airgap-model-sources", "In an air-gapped site model weights come only from internal stores: pvc://, "
         "file://, oci:// on a mirror, http(s) on the site's modelStores, hf:// only through the site's hfEndpoint.",
         "mandatory",
         "Copy the weights to an internal store and point `source` at it (pvc://claim/path, "
         "https://<modelStore>/..., oci://<mirror>/...), or set site.hfEndpoint to the internal Hugging Face mirror.",
         "stack", check_model_sources,
         {"allowedHosts": {"type": "array", "items": {"type": "string"}, "default": []},
          "allowedBuckets": {"type": "array", "items": {"type": "string"}, "default": []}}),
    Rule("airgap-charts", "In an air-gapped site Helm charts come only from internal OCI registries or local paths.",
         "mandatory",
         "Push the chart to the internal registry and set site.operators.chartRegistry (charts become "
         "oci://<chartRegistry>/<chart>), or vendor the chart into the repository and use a local path.",
         "stack", check_charts,
         {"allowedRegistries": {"type": "array", "items": {"type": "string"}, "default": []}}),
    Rule("airgap-egress", "Every namespace an air-gapped (or default-deny) site uses has a default-deny egress "
         "NetworkPolicy whose allowlist names its destinations.", "mandatory",
         "Keep site.network.defaultDenyEgress on (the default when airGapped) and list internal destinations in "
         "site.network.egressAllowCIDRs instead of allowing 0.0.0.0/0.",
         "stack", check_egress,
         {"allSites": {"type": "boolean", "default": False,
                       "description": "Require default-deny egress in every site, not only air-gapped ones"}}),
]
