"""Build what the render engine records (RenderedResource lists) straight from the planners, so rule
fixtures are realistic plans without running a Pulumi program; plus the clean edge-site config."""

from __future__ import annotations

import copy

from llmkube_iac.components.addon import ADDON_TYPE, declaration
from llmkube_iac.plan.router import plan_router
from llmkube_iac.plan.site import HELM_API
from llmkube_iac.plan.stack import plan_stack
from llmkube_iac.render.resources import RenderedResource
from llmkube_iac.spec import load_stack_config

PREFIX = "urn:pulumi:test::fixture::"
DIGEST = "@sha256:" + "a" * 64


def edge_config() -> dict:
    """An air-gapped edge site that passes every rule (the same shape as examples/airgapped-edge)."""
    image = "registry.edge.internal/ghcr/ggml-org/llama.cpp:server-cuda-b6710" + DIGEST
    return copy.deepcopy(
        {
            "site": {
                "name": "edge",
                "jurisdiction": "DE",
                "airGapped": True,
                "registryMirrors": [
                    {"source": "ghcr.io", "mirror": "registry.edge.internal/ghcr"},
                    {"source": "nvcr.io", "mirror": "registry.edge.internal/nvcr"},
                    {"source": "registry.k8s.io", "mirror": "registry.edge.internal/k8s"},
                ],
                "modelStores": ["models.edge.internal"],
                "toolsImage": "registry.edge.internal/ghcr/llmkube/llmkube-iac:0.1.0" + DIGEST,
                "network": {"egressAllowCIDRs": ["10.20.30.0/24"]},
                "operators": {"gpuOperators": True, "chartRegistry": "registry.edge.internal/charts"},
                "accelerators": [
                    {
                        "name": "l4",
                        "vendor": "nvidia",
                        "product": "NVIDIA L4",
                        "memoryGiB": 24,
                        "devicesPerNode": 1,
                        "nodeCount": 3,
                    }
                ],
            },
            "models": [
                {
                    "name": "chat-9b",
                    "source": "https://models.edge.internal/q/Qwen3.5-9B-Q4_K_M.gguf",
                    "format": "gguf",
                    "quantization": "Q4_K_M",
                    "architecture": "Dense",
                    "totalParametersB": 9,
                    "sizeGiB": 5.3,
                },
                {
                    "name": "embed",
                    "source": "pvc://model-store/embed/Qwen3-Embedding-0.6B-Q8_0.gguf",
                    "format": "gguf",
                    "quantization": "Q8_0",
                    "architecture": "Dense",
                    "totalParametersB": 0.6,
                    "sizeGiB": 0.6,
                },
            ],
            "services": [
                {
                    "name": "chat",
                    "model": "chat-9b",
                    "image": image,
                    "accelerator": {"vendor": "nvidia", "count": 1},
                    "autoscaling": {"minReplicas": 1, "maxReplicas": 2},
                    "contextSize": 16384,
                    "parallelSlots": 4,
                    "classification": "confidential",
                },
                {
                    "name": "embed",
                    "model": "embed",
                    "image": image,
                    "mode": "embedding",
                    "accelerator": {"vendor": "nvidia", "count": 1},
                    "contextSize": 8192,
                    "classification": "internal",
                },
            ],
        }
    )


def _type(m: dict) -> str:
    group, _, version = m["apiVersion"].rpartition("/")
    return f"kubernetes:{group or 'core'}/{version}:{m['kind']}"


def _urn(type_: str, name: str) -> str:
    return f"{PREFIX}{type_}::{name}"


def resources_for(config: dict) -> list[RenderedResource]:
    """Site, Model, InferenceService and Router components with their planned objects, as recorded."""
    cfg = load_stack_config(config)
    site, plan = cfg.site, plan_stack(cfg)
    out: list[RenderedResource] = []

    def component(type_: str, name: str, props: dict, parent: str | None) -> str:
        urn = _urn(type_, name)
        out.append(RenderedResource(urn, type_, name, props, parent, custom=False, site=site.name))
        return urn

    def objects(manifests: list[dict], owner: str, prefix: str) -> None:
        for m in manifests:
            if m["apiVersion"] == HELM_API:  # an AddOn component (its declaration) holding the Chart
                name = f"{prefix}-addon-{m['metadata']['name']}"
                addon = component(ADDON_TYPE, name, declaration(m, site.name), owner)
                spec = m["spec"]
                props = {
                    "chart": spec["chart"],
                    "version": spec["version"],
                    "namespace": m["metadata"].get("namespace"),
                }
                if spec.get("repository"):
                    props["repositoryOpts"] = {"repo": spec["repository"]}
                t, chart = "kubernetes:helm.sh/v4:Chart", f"{prefix}-{m['metadata']['name']}"
                out.append(
                    RenderedResource(_urn(t, chart), t, chart, props, addon, custom=False, remote=True, site=site.name)
                )
                continue
            t, name = _type(m), f"{prefix}-{m['kind'].lower()}-{m['metadata']['name']}"
            out.append(RenderedResource(_urn(t, name), t, name, copy.deepcopy(m), owner, site=site.name))

    site_urn = component(
        "llmkube:index:Site", site.name, {"spec": site.to_config(), "teams": [t.to_config() for t in cfg.teams]}, None
    )
    objects(plan.site, site_urn, site.name)
    for name, (model, manifests) in plan.models.items():
        urn = component(
            "llmkube:index:Model",
            f"{site.name}-{name}",
            {"spec": model.to_config(), "site": site.name, "facts": None},
            site_urn,
        )
        objects(manifests, urn, f"{site.name}-{name}")
    for svc in cfg.services:
        inline = svc.model_copy(update={"model": cfg.model_for(svc)})
        urn = component(
            "llmkube:index:InferenceService",
            f"{site.name}-{svc.name}",
            {"spec": inline.to_config(), "site": site.name},
            site_urn,
        )
        objects(plan.services[svc.name].manifests, urn, f"{site.name}-{svc.name}")
    for router in cfg.routers:
        urn = component(
            "llmkube:index:Router",
            f"{site.name}-{router.name}",
            {"spec": router.to_config(), "site": site.name},
            site_urn,
        )
        objects(plan_router(site, router, cfg.services), urn, f"{site.name}-{router.name}")
    return out


def find(resources: list[RenderedResource], kind: str, name: str) -> dict:
    """The manifest of one object, to mutate in place."""
    return next(r.props for r in resources if r.props.get("kind") == kind and r.props["metadata"]["name"] == name)
