"""What a site's accelerated services claim, read against the site's declared inventory.

Shared by the `capacity` and `gpu-fit` rules, so both agree on which services hold devices: a
service counts when its vendor is scheduled by Kubernetes with a device resource key (Apple
Silicon hosts are outside the cluster) and it asks for at least one device."""

from __future__ import annotations

from ..hardware import vendor
from .view import SiteView


def device_total(pools) -> int:
    """Devices in these accelerator pools: per node x nodes, summed."""
    return sum(p.devices_per_node * p.node_count for p in pools)


def accelerated_services(site: SiteView):
    """The site's services that claim Kubernetes-scheduled accelerator devices."""
    for svc in site.services:
        profile = vendor(svc.spec.accelerator.vendor)
        if profile.schedulable and profile.resource_key and svc.spec.device_count > 0:
            yield svc
