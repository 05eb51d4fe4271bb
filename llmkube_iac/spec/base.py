"""The base every spec model shares, so config keys are camelCase and typos are errors.

Stack config, Python callers, the metal-agent and the policy pack all read these models; a
single base keeps their spelling (camelCase on the wire, snake_case in Python) identical.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, GetCoreSchemaHandler, GetJsonSchemaHandler, field_validator
from pydantic.alias_generators import to_camel
from pydantic_core import core_schema

from .k8s import SAFE_INT_MAX, SecretKey

DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?\Z")
COUNTRY = re.compile(r"^[A-Z]{2}\Z")


class SpecModel(BaseModel):
    """camelCase aliases, snake_case attributes, unknown keys refused, immutable once built.

    Numbers must survive the trip through Pulumi (float64, JSON): no infinity or NaN, and no
    integer beyond 2^53; fields add the tighter bounds Kubernetes needs (int32, ...).
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        str_strip_whitespace=True,
        allow_inf_nan=False,
    )

    @field_validator("*", mode="after")
    @classmethod
    def _representable(cls, value):
        numbers = value if isinstance(value, tuple) else (value,)
        for n in numbers:
            if isinstance(n, int) and not isinstance(n, bool) and abs(n) > SAFE_INT_MAX:
                digits = len(str(abs(n)))
                raise ValueError(
                    f"a {digits}-digit number is beyond what Pulumi carries exactly (at most 2^53); "
                    "give a realistic value"
                )
        return value

    def to_config(self) -> dict:
        """The JSON form a stack config (or a ConfigMap) carries: camelCase, no unset defaults."""
        return self.model_dump(by_alias=True, mode="json", exclude_none=True)


class SecretKeyRef(SpecModel):
    """A key inside a Kubernetes Secret: values never appear in config, only the reference."""

    name: str = Field(description="Secret name (in the site namespace)")
    key: SecretKey = Field(description="Key inside the Secret")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not re.match(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\Z", v):
            raise ValueError(f"secret name {v[:60]!r} must be a DNS-1123 subdomain (e.g. 'router-keys')")
        return v


def check_dns_label(value: str, what: str = "name") -> str:
    """Kubernetes object names here are DNS-1035 labels; say so instead of failing at apply."""
    if not DNS_LABEL.match(value):
        shown = repr(value) if len(value) <= 60 else repr(value[:60] + "…") + f" ({len(value)} characters)"
        raise ValueError(
            f"{what} {shown} must be a DNS-1035 label: lower-case letters, digits and '-', "
            "starting with a letter, at most 63 characters (for example 'qwen3-chat')"
        )
    return value


def check_country(value: str) -> str:
    """Jurisdictions are ISO 3166-1 alpha-2 codes (data residency compares them)."""
    value = value.upper()
    if not COUNTRY.match(value):
        raise ValueError("jurisdiction must be an ISO 3166-1 alpha-2 country code such as DE, FR or US")
    return value


def canonical_json(data) -> str:
    """Sorted keys, no spaces: equal data always serialises (and hashes) the same."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def short_digest(text: str) -> str:
    """16 hex digits of SHA-256: a version stamp that changes exactly when `text` does."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def duplicates(names: Iterable[str | None]) -> list[str]:
    """Names that occur more than once (sorted; None ignored)."""
    return sorted(n for n, c in Counter(names).items() if n and c > 1)


@dataclass(frozen=True)
class TableChoice:
    """Annotate a `str` field whose valid values are a table's keys (vendors, runtimes), read when a
    value is validated and when the JSON schema is generated, so an entry added to the table alone
    is accepted and listed. `lookup` raises ValueError naming the valid choices; `names` lists them.

        Vendor = Annotated[str, TableChoice(vendor, lambda: list(VENDORS))]
    """

    lookup: Callable[[str], Any]
    names: Callable[[], Iterable[str]]

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        def check(value: str) -> str:
            self.lookup(value)
            return value

        return core_schema.no_info_after_validator_function(check, handler(source))

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler) -> dict:
        out = handler(schema)
        out["enum"] = list(self.names())
        return out
