"""Services naming a team are admitted by Kueue where it runs: their pods queue in the team's LocalQueue,
the namespaces holding team queues are the ones the site's Kueue manages, and what Kueue then counts per
pod is exactly what the team's ClusterQueue covers (devices), so admission can happen at all."""

from __future__ import annotations

import copy

import pytest
import yaml

from llmkube_iac.plan.errors import PlanError
from llmkube_iac.plan.meta import KUEUE_MANAGED_LABEL
from llmkube_iac.plan.quota import QUEUE_LABEL, admitting_pools
from llmkube_iac.plan.stack import plan_stack
from llmkube_iac.spec import SpecError, load_stack_config
from tests.plan.test_fleet_ops import ALL, DC, TEAMS, kinds

# the manager configuration of the pinned chart's values.yaml (kueue 0.13.2), comments left out: a site that
# installs Kueue keeps every one of these settings
CHART_DEFAULT_CONFIG = """
apiVersion: config.kueue.x-k8s.io/v1beta1
kind: Configuration
health:
  healthProbeBindAddress: :8081
metrics:
  bindAddress: :8443
webhook:
  port: 9443
leaderElection:
  leaderElect: true
  resourceName: c1f6bfd2.kueue.x-k8s.io
controller:
  groupKindConcurrency:
    Job.batch: 5
    Pod: 5
    Workload.kueue.x-k8s.io: 5
    LocalQueue.kueue.x-k8s.io: 1
    ClusterQueue.kueue.x-k8s.io: 1
    ResourceFlavor.kueue.x-k8s.io: 1
clientConnection:
  qps: 50
  burst: 100
integrations:
  frameworks:
  - "batch/job"
  - "kubeflow.org/mpijob"
  - "ray.io/rayjob"
  - "ray.io/raycluster"
  - "jobset.x-k8s.io/jobset"
  - "kubeflow.org/paddlejob"
  - "kubeflow.org/pytorchjob"
  - "kubeflow.org/tfjob"
  - "kubeflow.org/xgboostjob"
  - "kubeflow.org/jaxjob"
  - "workload.codeflare.dev/appwrapper"
"""


def stack(addons=ALL, teams=TEAMS, team="search", **site):
    c = copy.deepcopy(DC)
    if addons:
        c["site"]["addons"] = dict(addons)
    c["site"].update(site)
    if teams:
        c["teams"] = copy.deepcopy(teams)
    if team:
        c["services"][0]["team"] = team
    return load_stack_config(c)


def deployment(plan, name="chat"):
    return next(m for m in plan.services[name].manifests if m["kind"] == "Deployment")


def namespaces(plan) -> dict[str, dict]:
    return {m["metadata"]["name"]: m["metadata"]["labels"] for m in plan.site if m["kind"] == "Namespace"}


def kueue_config(plan) -> dict:
    chart = next(m for m in plan.site if m["kind"] == "HelmChart" and m["metadata"]["name"] == "kueue")
    return yaml.safe_load(chart["spec"]["values"]["managerConfig"]["controllerManagerConfigYaml"])


def selects(selector: dict, labels: dict) -> bool:
    """A label selector (matchLabels and matchExpressions In/NotIn/Exists) against a namespace's labels."""
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for e in selector.get("matchExpressions") or ():
        has, value = e["key"] in labels, labels.get(e["key"])
        ok = {
            "In": has and value in e.get("values", ()),
            "NotIn": not has or value not in e.get("values", ()),
            "Exists": has,
            "DoesNotExist": not has,
        }[e["operator"]]
        if not ok:
            return False
    return True


def test_a_team_service_queues_its_pods_in_the_team_localqueue():
    plan = plan_stack(stack())
    deploy = deployment(plan)
    template = deploy["spec"]["template"]["metadata"]["labels"]
    assert template[QUEUE_LABEL] == "search" and template["llmkube.dev/team"] == "search"
    # not on the Deployment itself: Kueue's Deployment webhook refuses changing a running Deployment's queue
    assert QUEUE_LABEL not in deploy["metadata"]["labels"] and deploy["metadata"]["labels"]["llmkube.dev/team"]
    # the queue it names is the team's LocalQueue in the namespace the pods run in, bound to its ClusterQueue
    local = {(m["metadata"]["namespace"], m["metadata"]["name"]): m["spec"] for m in kinds(plan.fleet, "LocalQueue")}
    assert local[(deploy["metadata"]["namespace"], "search")] == {"clusterQueue": "search"}
    assert "search" in {m["metadata"]["name"] for m in kinds(plan.fleet, "ClusterQueue")}
    # a service without a team, and every other object of the team's service, carries no queue label
    assert QUEUE_LABEL not in deployment(plan, "edge")["spec"]["template"]["metadata"]["labels"]
    others = [m for m in plan.services["chat"].manifests if m["kind"] != "Deployment"]
    assert others and all(QUEUE_LABEL not in m["metadata"]["labels"] for m in others)


def test_the_site_kueue_manages_exactly_the_namespaces_holding_team_queues():
    plan = plan_stack(stack())
    config = kueue_config(plan)
    frameworks = config["integrations"]["frameworks"]
    assert "pod" in frameworks and frameworks.index("pod") < frameworks.index("deployment")  # deployment needs pod
    selector = config["managedJobsNamespaceSelector"]
    ns = namespaces(plan)
    managed = {n for n, labels in ns.items() if selects(selector, labels)}
    queues = {m["metadata"]["namespace"] for m in kinds(plan.fleet, "LocalQueue")}
    assert managed == queues == {"llmkube", "search", "lab"}
    # the add-ons' own namespaces (kueue-system included) never pass through Kueue's pod webhook
    assert {"kueue-system", "monitoring", "cert-manager"} <= set(ns) - managed
    assert all(ns[n][KUEUE_MANAGED_LABEL] == "true" for n in managed)


def test_the_chart_keeps_its_defaults_and_adds_only_what_admission_needs():
    config = kueue_config(plan_stack(stack()))
    default = yaml.safe_load(CHART_DEFAULT_CONFIG)
    for key, value in default.items():
        if key != "integrations":
            assert config[key] == value, key
    assert config["integrations"]["frameworks"] == default["integrations"]["frameworks"] + ["pod", "deployment"]
    assert set(config) - set(default) == {"managedJobsNamespaceSelector", "resources"}
    # the chart reads the string back with fromYaml: it must be one YAML mapping, as this parse shows
    assert isinstance(config, dict) and config["kind"] == "Configuration"


def _pod_requests(pod_spec: dict) -> dict[str, float]:
    """What a pod requests as Kueue computes it: the containers' sum, at least each init container's."""

    def qty(v: str) -> float:
        units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
        for suffix, factor in units.items():
            if v.endswith(suffix):
                return float(v[: -len(suffix)]) * factor
        return float(v)

    total: dict[str, float] = {}
    for c in pod_spec["containers"]:
        for k, v in c["resources"].get("requests", {}).items():
            total[k] = total.get(k, 0) + qty(v)
    for c in pod_spec.get("initContainers", ()):
        for k, v in c["resources"].get("requests", {}).items():
            total[k] = max(total.get(k, 0), qty(v))
    return total


@pytest.mark.parametrize("service", ["chat", "edge"])
def test_every_resource_kueue_counts_for_a_team_pod_is_covered_by_its_cluster_queue(service):
    """A ClusterQueue admits nothing that requests a resource it does not cover: the site's Kueue leaves out
    cpu and memory, so a GPU pod counts its devices (devices per pod, as the capacity rule counts) and a CPU
    pod counts nothing."""
    c = copy.deepcopy(DC)
    c["site"]["addons"] = dict(ALL)
    c["teams"] = copy.deepcopy(TEAMS)
    for s in c["services"]:
        s["team"] = "search"
    plan = plan_stack(load_stack_config(c))
    config = kueue_config(plan)
    excluded = config["resources"]["excludeResourcePrefixes"]
    pod = deployment(plan, service)["spec"]["template"]["spec"]
    counted = {k: v for k, v in _pod_requests(pod).items() if not any(k.startswith(p) for p in excluded)}
    cq = next(m["spec"] for m in kinds(plan.fleet, "ClusterQueue") if m["metadata"]["name"] == "search")
    covered = {r for g in cq["resourceGroups"] for r in g["coveredResources"]}
    assert set(counted) <= covered
    assert counted == ({"nvidia.com/gpu": 1} if service == "chat" else {})
    assert {"cpu", "memory"} <= set(_pod_requests(pod))  # the exclusion is what makes it admissible


def test_cluster_provided_kueue_queues_the_pods_and_labels_the_namespaces_but_installs_nothing():
    plan = plan_stack(stack(addons=None, clusterProvides=["kueue.x-k8s.io"]))
    assert not [m for m in plan.site if m["kind"] == "HelmChart"]
    assert deployment(plan)["spec"]["template"]["metadata"]["labels"][QUEUE_LABEL] == "search"
    ns = namespaces(plan)
    assert ns["llmkube"][KUEUE_MANAGED_LABEL] == "true" and ns["search"][KUEUE_MANAGED_LABEL] == "true"


def test_without_kueue_or_without_a_team_nothing_changes():
    no_kueue = plan_stack(stack(addons=None))
    assert QUEUE_LABEL not in deployment(no_kueue)["spec"]["template"]["metadata"]["labels"]
    assert deployment(no_kueue)["metadata"]["labels"]["llmkube.dev/team"] == "search"  # as before
    assert all(KUEUE_MANAGED_LABEL not in labels for labels in namespaces(no_kueue).values())
    no_teams = plan_stack(stack(teams=None, team=None))
    assert all(KUEUE_MANAGED_LABEL not in labels for labels in namespaces(no_teams).values())
    assert QUEUE_LABEL not in deployment(no_teams)["spec"]["template"]["metadata"]["labels"]
    # a site without Kueue plans what a site without teams plans for the same service
    plain = plan_stack(stack(addons=None, teams=None, team=None))
    assert deployment(plain)["spec"]["template"]["spec"] == deployment(no_kueue)["spec"]["template"]["spec"]


def test_autoscaled_team_services_queue_every_pod():
    """KEDA or the HPA scale the Deployment; each new pod carries the template's queue label, so each one
    waits for its own admission (the pod integration makes one Workload per pod)."""
    c = copy.deepcopy(DC)
    c["site"]["addons"] = {**ALL, "kueue": True}
    c["site"]["operators"] = {"keda": True}
    c["teams"] = copy.deepcopy(TEAMS)
    c["services"][0].update(team="search", autoscaling={"minReplicas": 1, "maxReplicas": 4})
    plan = plan_stack(load_stack_config(c))
    deploy = deployment(plan)
    assert "replicas" not in deploy["spec"]  # the autoscaler owns the count
    assert deploy["spec"]["template"]["metadata"]["labels"][QUEUE_LABEL] == "search"
    scaler = next(
        m for m in plan.services["chat"].manifests if m["kind"] in ("ScaledObject", "HorizontalPodAutoscaler")
    )
    assert scaler["spec"]["scaleTargetRef"]["name"] == deploy["metadata"]["name"]


def test_metal_services_are_not_queued():
    """A metal host's service runs outside Kubernetes (no pod): Kueue never sees it, nothing is labelled."""
    c = copy.deepcopy(DC)
    c["site"]["addons"] = dict(ALL)
    c["site"]["metalHosts"] = [
        {"name": "studio-1", "chip": "M3 Ultra", "unifiedMemoryGiB": 192, "address": "10.0.0.11"}
    ]
    c["teams"] = copy.deepcopy(TEAMS)
    c["models"].append({"name": "q", "source": "hf://Qwen/Qwen3-8B-GGUF/Qwen3-8B-Q4_K_M.gguf", "sizeGiB": 5})
    c["services"][0]["team"] = "search"
    c["services"].append({"name": "mac", "model": "q", "accelerator": {"vendor": "metal"}, "team": "search"})
    plan = plan_stack(load_stack_config(c))
    everything = plan.site + plan.metal + [m for sp in plan.services.values() for m in sp.manifests]
    labelled = [m for m in everything if QUEUE_LABEL in str(m)]
    assert [m["metadata"]["name"] for m in labelled] == ["chat"]  # the Deployment of the GPU service only


def test_admitting_pools_follow_kueue_flavor_matching():
    site = stack().site
    teams = {t.name: t for t in stack().teams}
    svc = stack().services[0]
    assert admitting_pools(site, teams["search"], svc) == ["h100"]  # its quota pool, whose labels fit
    amd = svc.model_copy(update={"accelerator": svc.accelerator.model_copy(update={"vendor": "amd"})})
    assert admitting_pools(site, teams["research"], amd) == ["mi300x"]  # the pod tolerates the pool's taint
    assert admitting_pools(site, teams["search"], amd) == []  # no amd quota: unavailable in its ClusterQueue


def test_team_named_default_is_refused():
    with pytest.raises(SpecError, match=r"teams\[0\]\.name.*'default' is reserved.*LocalQueue named default"):
        load_stack_config({**copy.deepcopy(DC), "teams": [{"name": "default"}]})


@pytest.mark.parametrize(
    ("team", "path", "why"),
    [
        ({"name": "infra", "namespace": "kube-system"}, r"teams\[0\]\.namespace", "a Kubernetes system namespace"),
        ({"name": "kueue-system"}, r"teams\[0\]\.name", "add-on kueue's namespace"),
        ({"name": "obs", "namespace": "monitoring"}, r"teams\[0\]\.namespace", "add-on kube-prometheus-stack's"),
    ],
)
def test_a_team_namespace_is_never_a_system_or_addon_namespace(team, path, why):
    """It would get Pod Security restricted, a ResourceQuota and Kueue's pod webhook (Kueue's own namespace:
    its pods could no longer be created while it is down)."""
    with pytest.raises(PlanError, match=rf"{path}.*{why}.*teams\[\]\.namespace"):
        plan_stack(stack(teams=[team], team=None))


def test_a_flavor_whose_taint_the_pods_do_not_tolerate_cannot_admit_them():
    """Pools a (plain) and b (tainted dedicated=b): the pods are placed on a, the first pool that matches;
    Kueue skips a flavor with a NoSchedule taint they do not tolerate, whatever its labels."""
    c = copy.deepcopy(DC)
    c["site"]["accelerators"] = [
        {"name": "a", "vendor": "nvidia", "devicesPerNode": 8, "nodeCount": 1},
        {
            "name": "b",
            "vendor": "nvidia",
            "devicesPerNode": 8,
            "nodeCount": 1,
            "taints": [{"key": "dedicated", "value": "b", "effect": "NoSchedule"}],
        },
    ]
    c["site"]["clusterProvides"] = ["kueue.x-k8s.io"]
    c["teams"] = [
        {"name": "only-b", "devices": [{"vendor": "nvidia", "pool": "b", "count": 1}]},
        {"name": "anywhere", "devices": [{"vendor": "nvidia", "count": 1}]},
    ]
    config = load_stack_config(c)
    teams = {t.name: t for t in config.teams}
    chat = config.services[0]
    assert admitting_pools(config.site, teams["only-b"], chat) == []
    assert admitting_pools(config.site, teams["anywhere"], chat) == ["a"]
