"""THE add-on table: cluster add-ons a site installs as pinned Helm charts, and when it installs them.

Adding an add-on is one `AddOn` entry here: `plan/site.py` installs every entry whose condition
holds for the site and never names one. A condition is a function of the site (and the entry),
so "operators.keda is on" and "a pool of a vendor whose operator this is exists, and
operators.gpuOperators is on" are both one word in the table. Vendors name their operator here
(`VendorProfile.operator`); the add-on does not name the vendor back.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:  # pragma: no cover
    from .spec import SiteSpec

Condition = Callable[["SiteSpec", "AddOn"], bool]


@dataclass(frozen=True)
class AddOn:
    name: str  # Helm release name (and resource name)
    chart: str
    version: str  # pinned
    repository: str
    namespace: str
    enabled: Condition  # when the site installs it
    values: dict = field(default_factory=dict)


def vendor_operator(site: "SiteSpec", addon: AddOn) -> bool:
    """operators.gpuOperators is on and a pool's vendor names this add-on as its operator."""
    from .hardware import vendor

    return site.operators.gpu_operators and any(vendor(p.vendor).operator == addon.name for p in site.accelerators)


def operators_flag(flag: str) -> Condition:
    """The site's `operators.<flag>` (snake_case attribute) is on."""

    def enabled(site: "SiteSpec", addon: AddOn) -> bool:
        return bool(getattr(site.operators, flag))

    enabled.__doc__ = f"operators.{flag} is on"
    return enabled


ADDONS: dict[str, AddOn] = {a.name: a for a in (
    AddOn("gpu-operator", "gpu-operator", "v25.3.4", "https://helm.ngc.nvidia.com/nvidia", "gpu-operator",
          vendor_operator),
    AddOn("amd-gpu-operator", "gpu-operator-charts", "v1.3.0", "https://rocm.github.io/gpu-operator", "kube-amd-gpu",
          vendor_operator),
    AddOn("habana-ai-operator", "habana-ai-operator", "1.22.0",
          "https://vault.habana.ai/artifactory/api/helm/gaudi-helm", "habana-ai-operator", vendor_operator),
    AddOn("intel-device-plugins-operator", "intel-device-plugins-operator", "0.34.0",
          "https://intel.github.io/helm-charts", "inteldeviceplugins-system", vendor_operator),
    AddOn("keda", "keda", "2.17.2", "https://kedacore.github.io/charts", "keda", operators_flag("keda")),
)}


def addon(name: str) -> AddOn:
    try:
        return ADDONS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown add-on {name!r}; valid: {', '.join(ADDONS)}") from None


def site_addons(site: "SiteSpec") -> list[AddOn]:
    """The add-ons this site installs, in table order; a vendor naming no known add-on is an error."""
    from .hardware import vendor

    if site.operators.gpu_operators:
        for pool in site.accelerators:
            name = vendor(pool.vendor).operator
            if name is not None and name not in ADDONS:
                raise ValueError(f"vendor {pool.vendor} names operator add-on {name!r}, which is not in the add-on "
                                 f"table; valid: {', '.join(ADDONS)}")
    return [a for a in ADDONS.values() if a.enabled(site, a)]


__all__ = ["ADDONS", "AddOn", "Condition", "addon", "operators_flag", "site_addons", "vendor_operator"]
