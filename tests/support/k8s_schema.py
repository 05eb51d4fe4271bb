"""Schema checks for rendered manifests: kubernetes-validate for built-in kinds (1.30 and the
newest it ships), hand-written JSON Schemas (from the CRDs' published docs) for KEDA and
prometheus-operator objects, checked field by field with additionalProperties refused."""
from __future__ import annotations

import jsonschema
import kubernetes_validate

K8S_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())

_META = {"type": "object", "required": ["name"], "properties": {
    "name": {"type": "string"}, "namespace": {"type": "string"},
    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
    "annotations": {"type": "object", "additionalProperties": {"type": "string"}}}, "additionalProperties": False}


def _crd(spec: dict) -> dict:
    return {"type": "object", "required": ["apiVersion", "kind", "metadata", "spec"], "additionalProperties": False,
            "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": _META,
                           "spec": spec}}


_SELECTOR = {"type": "object", "properties": {"matchLabels": {"type": "object"}, "matchExpressions": {"type": "array"}},
             "additionalProperties": False}

_STRINGS = {"type": "object", "additionalProperties": {"type": "string"}}

CRD_SCHEMAS = {
    ("monitoring.coreos.com/v1", "PrometheusRule"): _crd({
        "type": "object", "additionalProperties": False, "properties": {"groups": {"type": "array", "items": {
            "type": "object", "required": ["name", "rules"], "additionalProperties": False, "properties": {
                "name": {"type": "string"}, "interval": {"type": "string"},
                "rules": {"type": "array", "items": {
                    "type": "object", "required": ["expr"], "additionalProperties": False, "properties": {
                        "alert": {"type": "string"}, "record": {"type": "string"}, "expr": {"type": "string"},
                        "for": {"type": "string"}, "labels": _STRINGS, "annotations": _STRINGS}}}}}}}}),
    ("cert-manager.io/v1", "Certificate"): _crd({
        "type": "object", "required": ["secretName", "issuerRef"], "additionalProperties": False, "properties": {
            "secretName": {"type": "string"},
            "commonName": {"type": "string"},
            "dnsNames": {"type": "array", "items": {"type": "string"}},
            "duration": {"type": "string"}, "renewBefore": {"type": "string"},
            "usages": {"type": "array", "items": {"type": "string"}},
            "privateKey": {"type": "object", "additionalProperties": False, "properties": {
                "algorithm": {"enum": ["RSA", "ECDSA", "Ed25519"]},
                "size": {"type": "integer"},
                "rotationPolicy": {"enum": ["Never", "Always"]},
                "encoding": {"enum": ["PKCS1", "PKCS8"]}}},
            "issuerRef": {"type": "object", "required": ["name"], "additionalProperties": False, "properties": {
                "name": {"type": "string"}, "kind": {"type": "string"}, "group": {"type": "string"}}}}}),
    ("keda.sh/v1alpha1", "ScaledObject"): _crd({
        "type": "object", "required": ["scaleTargetRef", "triggers"], "additionalProperties": False,
        "properties": {
            "scaleTargetRef": {"type": "object", "required": ["name"], "additionalProperties": False, "properties": {
                "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "name": {"type": "string"},
                "envSourceContainerName": {"type": "string"}}},
            "minReplicaCount": {"type": "integer", "minimum": 0},
            "maxReplicaCount": {"type": "integer", "minimum": 1},
            "idleReplicaCount": {"type": "integer"},
            "cooldownPeriod": {"type": "integer"},
            "pollingInterval": {"type": "integer"},
            "advanced": {"type": "object"},
            "fallback": {"type": "object"},
            "triggers": {"type": "array", "minItems": 1, "items": {
                "type": "object", "required": ["type", "metadata"], "additionalProperties": False, "properties": {
                    "type": {"type": "string"}, "name": {"type": "string"}, "useCachedMetrics": {"type": "boolean"},
                    "metricType": {"enum": ["AverageValue", "Value", "Utilization"]},
                    "authenticationRef": {"type": "object"},
                    # KEDA trigger metadata is map[string]string: numbers must be quoted
                    "metadata": {"type": "object", "additionalProperties": {"type": "string"}}}}},
        }}),
    ("monitoring.coreos.com/v1", "PodMonitor"): _crd({
        "type": "object", "required": ["selector"], "additionalProperties": False, "properties": {
            "selector": _SELECTOR,
            "namespaceSelector": {"type": "object"},
            "jobLabel": {"type": "string"},
            "podTargetLabels": {"type": "array", "items": {"type": "string"}},
            "podMetricsEndpoints": {"type": "array", "items": {
                "type": "object", "additionalProperties": False, "properties": {
                    "port": {"type": "string"}, "portNumber": {"type": "integer"}, "path": {"type": "string"},
                    "interval": {"type": "string",
                                 "pattern": "^(0|(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$"},
                    "scrapeTimeout": {"type": "string"}, "scheme": {"enum": ["http", "https"]},
                    "honorLabels": {"type": "boolean"},
                    "relabelings": {"type": "array", "items": {"type": "object", "additionalProperties": False,
                                                               "properties": {
                                                                   "sourceLabels": {"type": "array"},
                                                                   "separator": {"type": "string"},
                                                                   "targetLabel": {"type": "string"},
                                                                   "regex": {"type": "string"},
                                                                   "modulus": {"type": "integer"},
                                                                   "replacement": {"type": "string"},
                                                                   "action": {"type": "string"}}}},
                    "metricRelabelings": {"type": "array"}}}},
        }}),
}


def validate_manifest(manifest: dict, versions=K8S_VERSIONS) -> None:
    """Raise on any schema problem; custom resources need a schema here (no silent pass)."""
    key = (manifest["apiVersion"], manifest["kind"])
    if key in CRD_SCHEMAS:
        jsonschema.validate(manifest, CRD_SCHEMAS[key])
        return
    for version in versions:
        kubernetes_validate.validate(manifest, version, strict=True)
