"""Site-wide objects: the namespace, priority classes, egress default-deny and the add-on charts.

Everything here belongs to the cluster rather than to one service; `plan/stack.py` combines it
with the models, services, routers and metal hosts into the whole-stack plan.
"""
from __future__ import annotations

from ..addons import AddOn, site_addons
from ..spec import InferenceServiceSpec, SiteSpec
from ..spec.priority import PRIORITIES, priority_class_name
from .images import rewrite_image
from .meta import manifest, metadata, object_labels
from .network import dns_egress

HELM_API = "llmkube.dev/v1"  # pseudo-manifest for a Helm release; the component registers a helm.v4.Chart


def _labels(site: SiteSpec, name: str, component: str) -> dict:
    return object_labels(name, site.name, component, site=site.name)


def helm_release(name: str, chart: str, version: str, repository: str, namespace: str, site: SiteSpec,
                 values: dict | None = None, **extra) -> dict:
    """A chart reference; air-gapped sites with a chart registry pull it from there (oci://)."""
    spec: dict = {"chart": chart, "version": version, "repository": repository, "values": values or {}, **extra}
    if repository and repository.startswith("oci://"):  # an OCI chart is one reference, not a repository
        spec["chart"], spec["repository"] = f"{repository.rstrip('/')}/{chart}", None
    if site.operators.chart_registry:
        spec["chart"] = f"oci://{site.operators.chart_registry}/{chart}"
        spec["repository"] = None
    return manifest(HELM_API, "HelmChart", metadata(name, namespace, _labels(site, name, "operator")), spec=spec)


def _merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for k, v in extra.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _set(values: dict, path: str, value: str) -> None:
    keys = path.split(".")
    for k in keys[:-1]:
        values = values.setdefault(k, {})
    values[keys[-1]] = value


def mirrored_image_values(addon: AddOn, site: SiteSpec) -> dict:
    """The chart values that point each of its images at the site's mirrors (empty without mirrors)."""
    values: dict = {}
    for iv in addon.images:
        image = rewrite_image(iv.image, site.registry_mirrors)
        if image == iv.image:
            continue
        if iv.registry:
            host, _, path = image.partition("/")
            _set(values, iv.registry, host)
            _set(values, iv.repository, path)
        else:
            _set(values, iv.repository, image)
    return values


def addon_release(addon: AddOn, site: SiteSpec) -> dict:
    """One add-on as a chart pseudo-manifest: its values, the site's own and the mirrored images."""
    values = _merge(_merge(addon.values, addon.site_values(site) if addon.site_values else {}),
                    mirrored_image_values(addon, site))
    return helm_release(addon.name, addon.chart, addon.version, addon.repository, addon.namespace, site, values,
                        registration=addon.registration, provides=list(addon.provides), needs=list(addon.needs))


def plan_addon_namespaces(site: SiteSpec) -> list[dict]:
    """The add-ons' own namespaces (a chart does not create its release namespace), once each."""
    seen = {site.namespace}
    out = []
    for a in site_addons(site):
        if a.namespace not in seen:
            seen.add(a.namespace)
            out.append(manifest("v1", "Namespace", metadata(a.namespace, None, _labels(site, a.namespace, "namespace"))))
    return out


def plan_site_base(site: SiteSpec, services: tuple[InferenceServiceSpec, ...] = (), teams: tuple = ()) -> list[dict]:
    ns = site.namespace
    out = [manifest("v1", "Namespace", metadata(ns, None, {
        **_labels(site, ns, "namespace"),
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest",
    }))]
    used = ({s.priority for s in services} | {t.priority for t in teams}) or {"normal"}
    for prio, level in PRIORITIES.items():
        if prio in used:
            body = {"value": level.class_value, "globalDefault": False,
                    "description": f"llmkube {prio} inference workloads"}
            if not level.preempts:
                body["preemptionPolicy"] = "Never"
            name = priority_class_name(prio)
            out.append(manifest("scheduling.k8s.io/v1", "PriorityClass",
                                metadata(name, None, _labels(site, name, "priority")), **body))
    if site.deny_egress:
        out.append(default_deny_egress(site))
    # the add-on table decides which (addons.py), in its order; their namespaces are in plan_addon_namespaces
    out += [addon_release(a, site) for a in site_addons(site)]
    return out


def default_deny_egress(site: SiteSpec) -> dict:
    """Deny all egress but DNS, the namespace itself and the declared internal CIDRs."""
    egress = [dns_egress(site), {"to": [{"podSelector": {}}]}]
    if site.network.egress_allow_cidrs:
        egress.append({"to": [{"ipBlock": {"cidr": c}} for c in site.network.egress_allow_cidrs]})
    return manifest("networking.k8s.io/v1", "NetworkPolicy",
                    metadata("default-deny-egress", site.namespace, _labels(site, "default-deny-egress", "network")),
                    spec={"podSelector": {}, "policyTypes": ["Egress"], "egress": egress})
