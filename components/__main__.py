"""Host the llmkube components for other languages (Pulumi's Python component provider).

The schema is inferred from the annotations below: each component takes the same JSON-shaped
configuration the stack files use (`llmkube-iac schema` documents it), so a YAML or TypeScript
program declares a site exactly as a Python one does.
"""

from typing import Any, TypedDict

import pulumi
from pulumi.provider.experimental import component_provider_host

from llmkube_iac.components.fleet import Fleet as _Fleet
from llmkube_iac.components.site import Site as _Site


class SiteArgs(TypedDict):
    site: pulumi.Input[dict[str, Any]]
    """The site: name, jurisdiction, accelerators, mirrors... (the `llmkube:site` config key)."""
    models: pulumi.Input[list[dict[str, Any]]] | None
    """Models referenced by name from services (the `llmkube:models` config key)."""
    services: pulumi.Input[list[dict[str, Any]]] | None
    """Inference services (the `llmkube:services` config key)."""


def _known(value: Any, field: str) -> Any:
    """Expansion happens at preview: the configuration must be plain values, not outputs."""
    if isinstance(value, pulumi.Output):
        raise ValueError(f"{field} must be a plain value known at preview time, not an output of another resource")
    return value


def _config(args: SiteArgs, prefix: str = "") -> dict:
    raw = {"site": _known(args["site"], f"{prefix}site")}
    for key in ("models", "services"):
        if args.get(key) is not None:
            raw[key] = _known(args[key], f"{prefix}{key}")
    return raw


class Site(_Site):
    """One cluster's models and services (see the llmkube-iac README)."""

    namespace: pulumi.Output[str]
    service_urls: pulumi.Output[dict[str, str]]

    def __init__(self, name: str, args: SiteArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(name, _config(args), opts)
        urls = self.service_urls
        self.service_urls = pulumi.Output.all(**urls) if urls else pulumi.Output.from_input({})


class FleetArgs(TypedDict):
    sites: pulumi.Input[list[dict[str, Any]]]
    """One entry per site, each with site / models / services as in Site."""


class Fleet(_Fleet):
    """Several sites, one Kubernetes provider each."""

    site_names: pulumi.Output[list[str]]

    def __init__(self, name: str, args: FleetArgs, opts: pulumi.ResourceOptions | None = None):
        sites = _known(args["sites"], "sites")
        super().__init__(name, [_config(s, f"sites[{i}].") for i, s in enumerate(sites)], opts)
        self.site_names = pulumi.Output.from_input(sorted(self.sites))


if __name__ == "__main__":
    component_provider_host(name="llmkube", components=[Site, Fleet])
