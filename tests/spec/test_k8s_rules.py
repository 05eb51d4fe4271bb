"""The API server's rules for derived fields (spec/k8s.py): one line per value, valid or not."""

from __future__ import annotations

import pytest

from llmkube_iac.spec import k8s

VALID = [
    (k8s.check_dns1123_label, "a"),
    (k8s.check_dns1123_label, "0abc-9"),
    (k8s.check_dns1123_label, "a" * 63),
    (k8s.check_dns1123_subdomain, "fast-ssd"),
    (k8s.check_dns1123_subdomain, "a.b-c.d"),
    (k8s.check_dns1035_label, "chat-a"),
    (k8s.check_qualified_name, "nvidia.com/gpu.product"),
    (k8s.check_qualified_name, "Key_1.x"),
    (k8s.check_label_value, ""),
    (k8s.check_label_value, "NVIDIA-H100_80GB.v1"),
    (k8s.check_env_name, "HF_TOKEN"),
    (k8s.check_env_name, "my.var-1"),
    (k8s.check_quantity, "500m"),
    (k8s.check_quantity, "16Gi"),
    (k8s.check_quantity, "1.5G"),
    (k8s.check_quantity, "4"),
    (k8s.check_quantity, "1e3"),
    (k8s.check_quantity, ".5"),
    (k8s.check_cidr, "10.0.0.0/8"),
    (k8s.check_cidr, "fd00::/64"),
    (k8s.check_cidr, "192.168.1.7/32"),
    (k8s.check_host, "192.168.10.21"),
    (k8s.check_host, "fe80::1"),
    (k8s.check_host, "mac1.lab.internal"),
    (k8s.check_image, "ghcr.io/org/app:1.2@sha256:" + "a" * 64),
]
INVALID = [  # (rule, value, part of the reason)
    (k8s.check_dns1123_label, "Chat", "DNS-1123 label"),
    (k8s.check_dns1123_label, "a" * 64, "at most 63"),
    (k8s.check_dns1123_label, "-a", "DNS-1123 label"),
    (k8s.check_dns1123_label, "a.b", "DNS-1123 label"),
    (k8s.check_dns1123_subdomain, "Fast SSD", "DNS-1123 subdomain"),
    (k8s.check_dns1123_subdomain, "a" * 254, "at most 253"),
    (k8s.check_dns1035_label, "9chat", "DNS-1035"),
    (k8s.check_dns1035_label, "chat-", "DNS-1035"),
    (k8s.check_qualified_name, "a b", "qualified name"),
    (k8s.check_qualified_name, "/x", "prefix"),
    (k8s.check_qualified_name, "Bad_Prefix/x", "prefix"),
    (k8s.check_qualified_name, "x" * 64, "qualified name"),
    (k8s.check_label_value, "v v", "label value"),
    (k8s.check_label_value, "x" * 64, "label value"),
    (k8s.check_label_value, "-x", "label value"),
    (k8s.check_env_name, "1ABC", "environment variable"),
    (k8s.check_env_name, "A=B", "environment variable"),
    (k8s.check_quantity, "lots", "not a Kubernetes quantity"),
    (k8s.check_quantity, "16GB", "not a Kubernetes"),
    (k8s.check_quantity, "-1", "cannot be negative"),
    (k8s.check_quantity, "1e400", "larger than 2^63-1"),
    (k8s.check_quantity, "99999999999Ei", "larger than 2^63-1"),
    (k8s.check_cidr, "10.0.0.0/33", "not a CIDR"),
    (k8s.check_cidr, "10.0.0.1", "prefix length"),
    (k8s.check_cidr, "010.0.0.0/8", "not a CIDR"),
    (k8s.check_host, "not an address!", "neither an IP"),
    (k8s.check_host, "a_b.example", "neither an IP"),
    (k8s.check_image, "nginx latest", "not an image reference"),
    (k8s.check_image, "", "not an image"),
]


@pytest.mark.parametrize("rule, value", VALID)
def test_valid_values_pass(rule, value):
    assert rule(value) is None


@pytest.mark.parametrize("rule, value, reason", INVALID)
def test_invalid_values_are_refused_with_the_fix(rule, value, reason):
    message = rule(value)
    assert message and reason in message and len(message) < 400


def test_int32():
    assert k8s.check_int32(k8s.INT32_MAX) is None
    assert "int32" in k8s.check_int32(k8s.INT32_MAX + 1, "replicas")
    assert "of 400 digits" in k8s.check_int32(10**399, "replicas")
