"""`Site`: one cluster's stack — provider, namespace, site-wide objects, models, services, routers.

The whole stack is planned (pure) before anything is registered, so invalid input fails the
preview with a field path and nothing is half-applied. A kubernetes provider passed by the caller
(`opts.provider`, `opts.providers`, or a parent's) is used as given; otherwise the site makes its
own, with a stable `clusterIdentifier` (so a new kubeconfig or context is an update, not a
replacement of every object) and mutable ConfigMaps (the router's and the metal hosts'
desired-state ConfigMaps are updated in place instead of deleted and re-created). The kubeconfig
stays a Pulumi secret in the provider and in the site's recorded spec.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from ..modelinfo.plan_time import gather_facts, size_bytes
from ..modelinfo.revisions import pinned_sources, resolve_revisions
from ..plan.objects import SITE_TYPE
from ..plan.stack import pin_sources, plan_stack, stack_models
from ..spec import SiteSpec, StackConfig, load_stack_config
from .addon import AddOn
from .errors import invalid_input
from .model import Model
from .register import register_manifests
from .router import Router
from .service import InferenceService


def make_provider(name: str, site: SiteSpec, parent: pulumi.Resource) -> k8s.Provider:
    """One provider per site: its kubeconfig/context, or YAML rendering for render-only sites."""
    conn = site.kubernetes
    args: dict = {
        "namespace": site.namespace,
        "cluster_identifier": site.cluster_name,
        # ConfigMap edits are updates, not replacements (pulumi-kubernetes replaces them by default)
        "enable_config_map_mutable": True,
    }
    if conn.render_only:
        args["render_yaml_to_directory"] = f"{conn.render_dir}/{site.name}"
    else:
        if conn.kubeconfig:
            args["kubeconfig"] = pulumi.Output.secret(conn.kubeconfig)
        if conn.context:
            args["context"] = conn.context
    return k8s.Provider(f"{name}-provider", opts=pulumi.ResourceOptions(parent=parent), **args)


def site_props(site: SiteSpec) -> dict:
    """The site's spec as recorded in state: the kubeconfig (contents or path) is a secret there."""
    props = site.to_config()
    if site.kubernetes.kubeconfig:
        props["kubernetes"]["kubeconfig"] = pulumi.Output.secret(site.kubernetes.kubeconfig)
    return props


class Site(pulumi.ComponentResource):
    """Outputs: namespace and each service's in-cluster OpenAI base URL."""

    def __init__(
        self,
        name: str,
        config: StackConfig | dict,
        opts: pulumi.ResourceOptions | None = None,
        peer_exports: dict[str, dict] | None = None,
    ):
        """`peer_exports`: the `federation` exports of sibling sites in the same program, by site name
        (Fleet passes them); a peer not among them is read through a stack reference."""
        with invalid_input():
            config = config if isinstance(config, StackConfig) else load_stack_config(config)
            site = config.site
            pins = resolve_revisions(site, stack_models(config))  # hf:// branches/tags -> commits via the mirror
            config = pin_sources(config, pinned_sources(pins))  # the Job fetches that commit; the cache key has it
            facts = gather_facts(site, stack_models(config))  # headers the site itself serves (mirror, store, pvc)
            plan = plan_stack(config, {n: s for n, i in facts.items() if (s := size_bytes(i))})  # raises first
            teams = [t.to_config() for t in config.teams]  # the capacity rule checks quotas against the inventory
            costs = {n: c.to_dict() for n, c in plan.costs.items()}  # plan.json and the report read them
            super().__init__(SITE_TYPE, name, {"spec": site_props(site), "teams": teams, "costs": costs}, opts)
            self.config = config
            # the caller's provider (Python opts, the component package's providers, a parent's), else our own
            self.provider = self.get_provider("kubernetes:core/v1:Namespace") or make_provider(name, site, self)
            child = pulumi.ResourceOptions(parent=self, provider=self.provider)
            protect = site.kubernetes.protect
            self.resources = register_manifests(
                self, name, plan.site, pulumi.ResourceOptions(provider=self.provider), site=site.name, protect=protect
            )
            # workloads wait for their namespace and for the add-on charts whose CRDs they use
            # (ScaledObject needs KEDA's, device resources need the GPU operator's device plugin)
            site_deps = [r for r in self.resources.values() if isinstance(r, (k8s.core.v1.Namespace, AddOn))]
            after_ns = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=site_deps))

            self.models = {
                mname: Model(
                    f"{name}-{mname}",
                    model,
                    site,
                    size_bytes=size_bytes(facts.get(mname)),
                    facts=facts[mname].to_dict() if mname in facts else None,
                    manifests=manifests,
                    model_name=mname,
                    opts=after_ns,
                    revision=pins[mname].to_dict() if mname in pins else None,
                )
                for mname, (model, manifests) in plan.models.items()
            }
            # a service naming a team queues its pods in the team's LocalQueue (where Kueue runs): it exists first
            local_queues = {
                m["metadata"]["name"]: r
                for m, r in zip(plan.site, self.resources.values(), strict=True)
                if m["kind"] == "LocalQueue" and m["metadata"].get("namespace") == site.namespace
            }
            self.services: dict[str, InferenceService] = {}
            for svc in config.services:
                sp = plan.services[svc.name]
                model = config.model_for(svc)
                mname = svc.model_name
                deps: list[pulumi.Resource] = [self.models[mname]] if mname in self.models else []
                if svc.team in local_queues:
                    deps.append(local_queues[svc.team])
                svc_opts = pulumi.ResourceOptions.merge(after_ns, pulumi.ResourceOptions(depends_on=deps))
                self.services[svc.name] = InferenceService(
                    f"{name}-{svc.name}", svc, site, model=model, model_name=mname, plan=sp, opts=svc_opts
                )
            if plan.metal:  # per-host objects of the metal-agent (desired state, RBAC, Leases, alert)
                self.metal = register_manifests(
                    self, f"{name}-metal", plan.metal, after_ns, site=site.name, protect=protect
                )
            # routers: after the services whose NetworkPolicies admit them
            services = tuple(config.services)
            self.routers = {
                r.name: Router(
                    f"{name}-{r.name}",
                    r,
                    site,
                    services,
                    manifests=plan.routers[r.name],
                    peer_exports=peer_exports,
                    opts=pulumi.ResourceOptions.merge(
                        after_ns, pulumi.ResourceOptions(depends_on=list(self.services.values()))
                    ),
                )
                for r in config.routers
            }
            self.namespace = pulumi.Output.from_input(site.namespace)
            self.service_urls = {n: s.base_url for n, s in self.services.items()}
            # the spec is an output too: CrossGuard's stack policies read component outputs, not inputs
            self.register_outputs(
                {
                    "namespace": self.namespace,
                    "serviceUrls": self.service_urls,
                    "spec": site_props(site),
                    "teams": teams,
                    "costs": costs,
                }
            )
