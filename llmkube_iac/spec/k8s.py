"""The Kubernetes API server's own validation rules for the fields we derive from config.

Why here: a value copied from config into a manifest (a storage class, a label, a quantity, a
CIDR, a replica count) must satisfy the same rule the API server applies, or `pulumi up` fails
halfway through a site. Spec validators call these so the error names the config field; the
plan gate (plan/validate.py) applies them once more to every rendered object. The patterns are
those of k8s.io/apimachinery (util/validation, api/resource) and core/v1 validation.

Each `check_*` returns None when the value is valid, else the reason (a sentence with the fix). They are
pure functions of a string, memoised: the plan gate checks the same label keys and names on every object.
"""

from __future__ import annotations

import ipaddress
import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator

INT32_MAX = 2**31 - 1
# Pulumi carries numbers as float64: integers beyond 2**53 would arrive changed
SAFE_INT_MAX = 2**53
MAX_OBJECT_BYTES = 1536 * 1024  # etcd's default request limit (1.5 MiB)
MAX_ANNOTATIONS_BYTES = 256 * 1024  # metadata.annotations, all keys and values together
MAX_CONFIGMAP_BYTES = 1024 * 1024  # ConfigMap data
MAX_STABILIZATION_SECONDS = 3600  # HPA behavior.*.stabilizationWindowSeconds

_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_LABEL = re.compile(rf"^{_LABEL}\Z")
DNS1123_SUBDOMAIN = re.compile(rf"^{_LABEL}(\.{_LABEL})*\Z")
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?\Z")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]\Z")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?\Z")
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*\Z")
_QUANTITY = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?\Z")
_SCALE = {
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "E": 10**18,
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _show(value: str) -> str:
    return repr(value if len(value) <= 60 else value[:60] + "…")


@lru_cache(maxsize=8192)
def check_dns1123_label(value: str) -> str | None:
    if len(value) > 63 or not DNS1123_LABEL.match(value):
        return (
            f"{_show(value)} must be a DNS-1123 label: at most 63 lower-case letters, digits and '-', "
            "starting and ending with a letter or digit"
        )
    return None


@lru_cache(maxsize=8192)
def check_dns1123_subdomain(value: str) -> str | None:
    if len(value) > 253 or not DNS1123_SUBDOMAIN.match(value):
        return (
            f"{_show(value)} must be a DNS-1123 subdomain: at most 253 lower-case letters, digits, '-' and "
            "'.', starting and ending with a letter or digit (e.g. fast-ssd)"
        )
    return None


@lru_cache(maxsize=8192)
def check_dns1035_label(value: str) -> str | None:
    if len(value) > 63 or not DNS1035_LABEL.match(value):
        return (
            f"{_show(value)} must be a DNS-1035 label: at most 63 lower-case letters, digits and '-', "
            "starting with a letter and ending with a letter or digit"
        )
    return None


@lru_cache(maxsize=8192)
def check_qualified_name(value: str) -> str | None:
    """A label or annotation key, a taint or toleration key: [prefix/]name."""
    prefix, _, name = value.rpartition("/")
    if "/" in value and (not prefix or check_dns1123_subdomain(prefix)):
        return f"{_show(value)}: the prefix before '/' must be a DNS subdomain (e.g. example.com/gpu)"
    if len(name) > 63 or not _QUALIFIED_NAME.match(name):
        return (
            f"{_show(value)} must be a qualified name: [prefix/]name, the name at most 63 letters, digits, "
            "'-', '_' and '.', starting and ending with a letter or digit"
        )
    return None


@lru_cache(maxsize=8192)
def check_label_value(value: str) -> str | None:
    if len(value) > 63 or not _LABEL_VALUE.match(value):
        return (
            f"{_show(value)} must be a label value: empty or at most 63 letters, digits, '-', '_' and '.', "
            "starting and ending with a letter or digit"
        )
    return None


@lru_cache(maxsize=8192)
def check_env_name(value: str) -> str | None:
    if not _ENV_NAME.match(value):
        return (
            f"{_show(value)} must be an environment variable name: letters, digits, '_', '-' and '.', not a digit first"
        )
    return None


def quantity_value(value: str) -> Decimal | None:
    """The number a resource.Quantity string denotes, or None when it is not one."""
    if not isinstance(value, str) or not _QUANTITY.match(value):
        return None
    number = re.match(r"^[+-]?[0-9.]+", value)[0]  # type: ignore[index]  # _QUANTITY matched: a number leads
    suffix = value[len(number) :]
    try:
        if suffix not in _SCALE:  # an exponent: e3, E-2
            return Decimal(number) * (Decimal(10) ** int(suffix[1:]))
        return Decimal(number) * Decimal(str(_SCALE[suffix]))
    except (InvalidOperation, ValueError, OverflowError):
        return None


@lru_cache(maxsize=8192)
def check_quantity(value: str, what: str = "quantity") -> str | None:
    """A non-negative resource.Quantity no larger than the API server keeps (2^63-1)."""
    number = quantity_value(value)
    if number is None:
        return (
            f"{_show(value)} is not a Kubernetes quantity: a number with an optional suffix, e.g. 500m, 4, "
            f"16Gi, 1.5G ({what})"
        )
    if number < 0:
        return f"{_show(value)}: a {what} cannot be negative"
    if number > 2**63 - 1:
        return f"{_show(value)}: a {what} larger than 2^63-1 is not representable"
    return None


@lru_cache(maxsize=8192)
def check_cidr(value: str) -> str | None:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return f"{_show(value)} is not a CIDR: an address and a prefix length, e.g. 10.20.0.0/16 or fd00::/64"
    if "/" not in value:
        return f"{_show(value)}: give the prefix length too, e.g. {value}/32"
    if not value.rpartition("/")[2].isdigit() or not value.rpartition("/")[2].isascii():
        return f"{_show(value)}: the prefix length is a number of bits (e.g. /24), not a netmask"
    return None


@lru_cache(maxsize=8192)
def check_host(value: str) -> str | None:
    """An IP address or a DNS name (what a host or a registry is addressed by)."""
    try:
        ipaddress.ip_address(value)
        return None
    except ValueError:
        pass
    if len(value) > 253 or not DNS1123_SUBDOMAIN.match(value.lower()):
        return f"{_show(value)} is neither an IP address nor a DNS name (e.g. 192.168.10.21 or mac1.lab.internal)"
    return None


@lru_cache(maxsize=8192)
def check_image(value: str) -> str | None:
    if not value or value != value.strip() or any(c.isspace() for c in value) or _CONTROL.search(value):
        return f"{_show(value)} is not an image reference: no spaces or control characters (e.g. ghcr.io/org/app:1.2)"
    return None


def check_int32(value: int, what: str = "value") -> str | None:
    if not -(2**31) <= value <= INT32_MAX:
        return (
            f"{what} {value if abs(value) < 10**12 else 'of ' + str(len(str(value))) + ' digits'} exceeds "
            f"Kubernetes' int32 range (at most {INT32_MAX})"
        )
    return None


def raise_if(reason: str | None) -> None:
    """For pydantic validators: a reason becomes the field's error."""
    if reason:
        raise ValueError(reason)


# Annotated string types for spec fields: pydantic reports a failing element with its own index or key.
def _rule(check) -> AfterValidator:
    def validate(value: str) -> str:
        raise_if(check(value))
        return value

    return AfterValidator(validate)


def _secret_key(value: str) -> str | None:
    if len(value) > 253 or not re.match(r"^[-._a-zA-Z0-9]+\Z", value) or value in (".", ".."):
        return f"{_show(value)} must be a Secret key: letters, digits, '-', '_' and '.' (e.g. api-key)"
    return None


Dns1123Label = Annotated[str, _rule(check_dns1123_label)]
Subdomain = Annotated[str, _rule(check_dns1123_subdomain)]
QualifiedName = Annotated[str, _rule(check_qualified_name)]
LabelValue = Annotated[str, _rule(check_label_value)]


def _number_text(value):
    """YAML `cpu: 4` is a number; Kubernetes reads it as the quantity "4", and so do we."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:g}" if isinstance(value, float) else str(value)
    return value


Quantity = Annotated[str, BeforeValidator(_number_text), _rule(check_quantity)]
Cidr = Annotated[str, _rule(check_cidr)]
Host = Annotated[str, _rule(check_host)]
Image = Annotated[str, _rule(check_image)]
EnvName = Annotated[str, _rule(check_env_name)]
SecretKey = Annotated[str, _rule(_secret_key)]
