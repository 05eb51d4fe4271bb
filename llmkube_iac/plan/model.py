"""Model -> the site cache for its weights: a PVC and a download Job (only for remote sources).

Pods never download from outside the site: the Job fills `/models/<cache key>/` once, writes the
verification marker, and every replica mounts the cache read-only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..modelinfo.quant import bits_per_weight
from ..spec import ModelSpec, SiteSpec
from ..units import GIB
from .download_network import download_network_policy
from .errors import PlanError
from .meta import bounded_name, manifest, metadata, object_labels
from .scanner import HF_TOKEN_IN_ENV, add_skips
from .security import container_security_context, empty_dir, pod_security_context

MOUNT = "/models"
# A download Job is stopped (and fails) after this long: a stuck or throttled transfer does not hold the
# cache and its credentials forever. Matches how long the Model component waits for the Job.
DOWNLOAD_DEADLINE_SECONDS = 6 * 3600
MARKER = ".llmkube-verified.json"


@dataclass(frozen=True)
class ModelPlacement:
    """How a pod sees a model: which volume, where it is mounted, the path the runtime opens."""

    volume: dict
    model_path: str
    cache_key: str
    marker_path: str | None  # checked by the init step when the weights were downloaded
    sha256: str | None


def model_object_name(model: ModelSpec, fallback: str) -> str:
    return model.name or fallback


def cache_claim_name(model_name: str) -> str:
    return f"{model_name}-cache"


def fetch_job_name(model_name: str, cache_key: str) -> str:
    """The download Job of one cache entry (a new source or hash is a new Job, not an edited one). A Job's
    name becomes its pods' job-name label, so a long model name is truncated and hashed to fit 63."""
    return bounded_name(model_name, f"-fetch-{cache_key[-8:]}")


def weights_gib(model: ModelSpec, size_bytes: int | None = None) -> float | None:
    """Best known weights size: header facts, then declared size, then parameters x bits per weight (the
    fit estimator's table, so the cache is sized for the model the gpu-fit rule judges)."""
    if size_bytes:
        return size_bytes / GIB
    if model.size_gi_b:
        return model.size_gi_b
    bits = bits_per_weight(model.quantization)
    if model.total_parameters_b and bits:
        return model.total_parameters_b * 1e9 * bits / 8 / GIB
    return None


def cache_size_gib(model: ModelSpec, size_bytes: int | None = None) -> int:
    if model.cache.size_gi_b:
        return math.ceil(model.cache.size_gi_b)
    gib = weights_gib(model, size_bytes)
    return max(1, math.ceil(gib * 1.2 + 1)) if gib else 100


def placement(model: ModelSpec, model_name: str) -> ModelPlacement:
    """Where the weights are for a pod; refuses file:// (hostPath breaks the restricted profile)."""
    src = model.parsed_source
    key = src.cache_key(model.sha256)
    if src.needs_download:
        path = f"{MOUNT}/{key}/{src.filename}" if src.filename else f"{MOUNT}/{key}"
        volume = {
            "name": "models",
            "persistentVolumeClaim": {"claimName": cache_claim_name(model_name), "readOnly": True},
        }
        return ModelPlacement(volume, path, key, f"{MOUNT}/{key}/{MARKER}", model.sha256)
    if src.scheme == "pvc":
        volume = {"name": "models", "persistentVolumeClaim": {"claimName": src.location, "readOnly": True}}
        return ModelPlacement(volume, f"{MOUNT}/{src.path}".rstrip("/"), key, None, model.sha256)
    if src.scheme == "oci":
        # Kubernetes image volumes: beta in 1.33 (feature gate ImageVolume), needed for oci:// models
        ref = src.uri.removeprefix("oci://")
        volume = {"name": "models", "image": {"reference": ref, "pullPolicy": "IfNotPresent"}}
        path = f"{MOUNT}/model.gguf" if model.resolved_format == "gguf" else MOUNT
        return ModelPlacement(volume, path, key, None, model.sha256)
    raise PlanError(
        "source",
        f"{src.uri}: file:// sources are for metal hosts; on Kubernetes a hostPath would break the restricted "
        "Pod Security profile — put the file on a volume and use pvc://claim/path",
    )


def plan_model(site: SiteSpec, model: ModelSpec, model_name: str, size_bytes: int | None = None) -> list[dict]:
    """The cache PVC and the download Job for remote sources; nothing for mounted ones."""
    place = placement(model, model_name)
    src = model.parsed_source
    if not src.needs_download:
        return []
    labels = object_labels(
        model_name, model_name, "model-cache", site=site.name, model=model_name, cache_key=place.cache_key
    )
    ns = site.namespace
    pvc_spec: dict = {
        "accessModes": [model.cache.access_mode],
        "resources": {"requests": {"storage": f"{cache_size_gib(model, size_bytes)}Gi"}},
    }
    storage_class = model.cache.storage_class_name or site.storage_class_name
    if storage_class:
        pvc_spec["storageClassName"] = storage_class
    pvc = manifest("v1", "PersistentVolumeClaim", metadata(cache_claim_name(model_name), ns, labels), spec=pvc_spec)

    dest = f"{MOUNT}/{place.cache_key}"
    args = ["fetch", src.uri, "--dest", dest]
    if model.sha256:
        args += ["--sha256", model.sha256]
    env: list[dict] = []
    if site.hf_endpoint:
        env.append({"name": "HF_ENDPOINT", "value": site.hf_endpoint})
    if model.hf_token_secret:
        env.append(
            {"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": model.hf_token_secret, "key": "HF_TOKEN"}}}
        )
    env.append({"name": "HOME", "value": "/tmp"})
    container = {
        "name": "fetch",
        "image": site.tools_image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["llmkube-iac"],
        "args": args,
        "env": env,
        "resources": {"requests": {"cpu": "500m", "memory": "512Mi"}, "limits": {"cpu": "2", "memory": "1Gi"}},
        "securityContext": container_security_context(),
        "volumeMounts": [{"name": "models", "mountPath": MOUNT}, {"name": "tmp", "mountPath": "/tmp"}],
    }
    job_labels = {**labels, "app.kubernetes.io/component": "model-download"}
    job_name = fetch_job_name(model_name, place.cache_key)
    job = manifest(
        "batch/v1",
        "Job",
        metadata(job_name, ns, job_labels),
        spec={
            "backoffLimit": 6,
            "activeDeadlineSeconds": DOWNLOAD_DEADLINE_SECONDS,
            "template": {
                "metadata": {"labels": job_labels},
                "spec": {
                    "restartPolicy": "OnFailure",
                    "automountServiceAccountToken": False,
                    "securityContext": pod_security_context(),
                    "containers": [container],
                    "volumes": [
                        {"name": "models", "persistentVolumeClaim": {"claimName": cache_claim_name(model_name)}},
                        empty_dir("tmp", "1Gi"),
                    ],
                },
            },
        },
    )
    if model.hf_token_secret:
        add_skips(job, HF_TOKEN_IN_ENV)
    selector = {
        k: job_labels[k]
        for k in ("app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component")
    }
    return [pvc, job, download_network_policy(site, model, job_name, job_labels, selector)]
