"""Schema checks for rendered manifests: kubernetes-validate for built-in kinds (1.30 and the
newest it ships), hand-written JSON Schemas (from the CRDs' published docs) for KEDA and
prometheus-operator, Pyrra and Kueue objects, checked field by field with additionalProperties refused."""

from __future__ import annotations

import functools
import re

import jsonschema
import kubernetes_validate

K8S_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())

_META = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string"},
        "namespace": {"type": "string"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "additionalProperties": False,
}


def _crd(spec: dict) -> dict:
    return {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "additionalProperties": False,
        "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": _META, "spec": spec},
    }


_SELECTOR = {
    "type": "object",
    "properties": {"matchLabels": {"type": "object"}, "matchExpressions": {"type": "array"}},
    "additionalProperties": False,
}

_STRINGS = {"type": "object", "additionalProperties": {"type": "string"}}

CRD_SCHEMAS = {
    ("monitoring.coreos.com/v1", "PrometheusRule"): _crd(
        {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "groups": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["name", "rules"],
                        "additionalProperties": False,
                        "properties": {
                            "name": {"type": "string"},
                            "interval": {"type": "string"},
                            "rules": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["expr"],
                                    "additionalProperties": False,
                                    "properties": {
                                        "alert": {"type": "string"},
                                        "record": {"type": "string"},
                                        "expr": {"type": "string"},
                                        "for": {"type": "string"},
                                        "labels": _STRINGS,
                                        "annotations": _STRINGS,
                                    },
                                },
                            },
                        },
                    },
                }
            },
        }
    ),
    ("cert-manager.io/v1", "Certificate"): _crd(
        {
            "type": "object",
            "required": ["secretName", "issuerRef"],
            "additionalProperties": False,
            "properties": {
                "secretName": {"type": "string"},
                "commonName": {"type": "string"},
                "dnsNames": {"type": "array", "items": {"type": "string"}},
                "duration": {"type": "string"},
                "renewBefore": {"type": "string"},
                "usages": {"type": "array", "items": {"type": "string"}},
                "privateKey": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "algorithm": {"enum": ["RSA", "ECDSA", "Ed25519"]},
                        "size": {"type": "integer"},
                        "rotationPolicy": {"enum": ["Never", "Always"]},
                        "encoding": {"enum": ["PKCS1", "PKCS8"]},
                    },
                },
                "issuerRef": {
                    "type": "object",
                    "required": ["name"],
                    "additionalProperties": False,
                    "properties": {"name": {"type": "string"}, "kind": {"type": "string"}, "group": {"type": "string"}},
                },
            },
        }
    ),
    ("keda.sh/v1alpha1", "ScaledObject"): _crd(
        {
            "type": "object",
            "required": ["scaleTargetRef", "triggers"],
            "additionalProperties": False,
            "properties": {
                "scaleTargetRef": {
                    "type": "object",
                    "required": ["name"],
                    "additionalProperties": False,
                    "properties": {
                        "apiVersion": {"type": "string"},
                        "kind": {"type": "string"},
                        "name": {"type": "string"},
                        "envSourceContainerName": {"type": "string"},
                    },
                },
                "minReplicaCount": {"type": "integer", "minimum": 0},
                "maxReplicaCount": {"type": "integer", "minimum": 1},
                "idleReplicaCount": {"type": "integer"},
                "cooldownPeriod": {"type": "integer"},
                "pollingInterval": {"type": "integer"},
                "advanced": {"type": "object"},
                "fallback": {"type": "object"},
                "triggers": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["type", "metadata"],
                        "additionalProperties": False,
                        "properties": {
                            "type": {"type": "string"},
                            "name": {"type": "string"},
                            "useCachedMetrics": {"type": "boolean"},
                            "metricType": {"enum": ["AverageValue", "Value", "Utilization"]},
                            "authenticationRef": {"type": "object"},
                            # KEDA trigger metadata is map[string]string: numbers must be quoted
                            "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
                        },
                    },
                },
            },
        }
    ),
    ("monitoring.coreos.com/v1", "PodMonitor"): _crd(
        {
            "type": "object",
            "required": ["selector"],
            "additionalProperties": False,
            "properties": {
                "selector": _SELECTOR,
                "namespaceSelector": {"type": "object"},
                "jobLabel": {"type": "string"},
                "podTargetLabels": {"type": "array", "items": {"type": "string"}},
                "podMetricsEndpoints": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "port": {"type": "string"},
                            "portNumber": {"type": "integer"},
                            "path": {"type": "string"},
                            "interval": {
                                "type": "string",
                                "pattern": "^(0|(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$",
                            },
                            "scrapeTimeout": {"type": "string"},
                            "scheme": {"enum": ["http", "https"]},
                            "honorLabels": {"type": "boolean"},
                            "relabelings": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "properties": {
                                        "sourceLabels": {"type": "array"},
                                        "separator": {"type": "string"},
                                        "targetLabel": {"type": "string"},
                                        "regex": {"type": "string"},
                                        "modulus": {"type": "integer"},
                                        "replacement": {"type": "string"},
                                        "action": {"type": "string"},
                                    },
                                },
                            },
                            "metricRelabelings": {"type": "array"},
                        },
                    },
                },
            },
        }
    ),
}

_QUERY = {
    "type": "object",
    "required": ["metric"],
    "additionalProperties": False,
    "properties": {"metric": {"type": "string", "minLength": 1}},
}
_PAIR = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "errors": _QUERY,
        "success": _QUERY,
        "total": _QUERY,
        "grouping": {"type": "array", "items": {"type": "string"}},
    },
}
_QUANTITY = {
    "anyOf": [{"type": "integer", "minimum": 0}, {"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?[a-zA-Z]*$"}]
}
_KUEUE_PREEMPTION = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "reclaimWithinCohort": {"enum": ["Never", "LowerPriority", "Any"]},
        "borrowWithinCohort": {"type": "object"},
        "withinClusterQueue": {"enum": ["Never", "LowerPriority", "LowerOrNewerEqualPriority"]},
    },
}

# pyrra-dev/pyrra kubernetes/api/v1alpha1/servicelevelobjective_types.go; kubernetes-sigs/kueue apis/kueue/v1beta1
CRD_SCHEMAS.update(
    {
        ("pyrra.dev/v1alpha1", "ServiceLevelObjective"): _crd(
            {
                "type": "object",
                "required": ["target", "window", "indicator"],
                "additionalProperties": False,
                "properties": {
                    "description": {"type": "string"},
                    "target": {"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?$"},
                    "window": {"type": "string", "pattern": "^[0-9]+[smhdwy]$"},
                    "indicator": {
                        "type": "object",
                        "minProperties": 1,
                        "maxProperties": 1,
                        "additionalProperties": False,
                        "properties": {
                            "ratio": {**_PAIR, "required": ["errors", "total"]},
                            "latency": {**_PAIR, "required": ["success", "total"]},
                        },
                    },
                    "alerting": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "disabled": {"type": "boolean"},
                            "burnrates": {"type": "boolean"},
                            "absent": {"type": "boolean"},
                            "name": {"type": "string"},
                            "absentName": {"type": "string"},
                        },
                    },
                },
            }
        ),
        ("kueue.x-k8s.io/v1beta1", "ResourceFlavor"): _crd(
            {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "nodeLabels": _STRINGS,
                    "nodeTaints": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["key", "effect"],
                            "additionalProperties": False,
                            "properties": {
                                "key": {"type": "string"},
                                "value": {"type": "string"},
                                "effect": {"enum": ["NoSchedule", "PreferNoSchedule", "NoExecute"]},
                            },
                        },
                    },
                    "tolerations": {"type": "array"},
                    "topologyName": {"type": "string"},
                },
            }
        ),
        ("kueue.x-k8s.io/v1beta1", "ClusterQueue"): _crd(
            {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "cohort": {"type": "string"},
                    "namespaceSelector": _SELECTOR,
                    "queueingStrategy": {"enum": ["StrictFIFO", "BestEffortFIFO"]},
                    "preemption": _KUEUE_PREEMPTION,
                    "resourceGroups": {
                        "type": "array",
                        "maxItems": 16,
                        "items": {
                            "type": "object",
                            "required": ["coveredResources", "flavors"],
                            "additionalProperties": False,
                            "properties": {
                                "coveredResources": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                                "flavors": {
                                    "type": "array",
                                    "minItems": 1,
                                    "items": {
                                        "type": "object",
                                        "required": ["name", "resources"],
                                        "additionalProperties": False,
                                        "properties": {
                                            "name": {"type": "string"},
                                            "resources": {
                                                "type": "array",
                                                "items": {
                                                    "type": "object",
                                                    "required": ["name", "nominalQuota"],
                                                    "additionalProperties": False,
                                                    "properties": {
                                                        "name": {"type": "string"},
                                                        "nominalQuota": _QUANTITY,
                                                        "borrowingLimit": _QUANTITY,
                                                        "lendingLimit": _QUANTITY,
                                                    },
                                                },
                                            },
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            }
        ),
        ("kueue.x-k8s.io/v1beta1", "LocalQueue"): _crd(
            {
                "type": "object",
                "required": ["clusterQueue"],
                "additionalProperties": False,
                "properties": {"clusterQueue": {"type": "string"}, "stopPolicy": {"type": "string"}},
            }
        ),
    }
)


@functools.cache
def _validator(api_version: str, kind: str, version: str):
    """kubernetes_validate.validate's strict validator, built once per kind and version (it reads the
    schema files on every call otherwise, about 0.1 s per object)."""
    from kubernetes_validate import utils
    from referencing import Registry, Resource

    wanted = [v for v in utils.all_versions() if utils.major_minor(v) <= utils.major_minor(version)][-1]
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    schema_dir = f"kubernetes-json-schema/v{wanted}-local-strict"
    try:
        schema = utils.schema_contents(f"{schema_dir}/{kind.lower()}-{group_version}.json", version)
    except FileNotFoundError:
        raise utils.SchemaNotFoundError(version=version, kind=kind, api_version=api_version) from None
    definitions = utils.schema_contents(f"{schema_dir}/_definitions.json", version)
    registry = Resource.from_contents(definitions) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


def validate_manifest(manifest: dict, versions=K8S_VERSIONS) -> None:
    """Raise on any schema problem; custom resources need a schema here (no silent pass)."""
    key = (manifest["apiVersion"], manifest["kind"])
    if key in CRD_SCHEMAS:
        jsonschema.validate(manifest, CRD_SCHEMAS[key])
        return
    for version in versions:
        _validator(manifest["apiVersion"], manifest["kind"], version).validate(manifest)
