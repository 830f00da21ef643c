"""The inventory contract as pydantic models: one model per kind, every allowed value spelled out.

These models validate one entry at a time (types, enums, patterns, ranges); references between entries,
duplicates and component cycles are checked afterwards by ``secops.inventory.validate``.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    field_validator,
    model_validator,
)

from secops.i18n import _

KINDS = ("agencies", "systems", "hosts", "scopes")

Function = Literal["internal", "citizen_service", "infrastructure", "industrial_control", "other"]
Information = Literal["public", "private", "personal", "state_secret"]
InfrastructureScope = Literal[
    "organization", "sector", "province", "multi_province", "national", "international"
]
IcsGrade = Literal["IV", "III", "II", "I", "special"]
StateSecretHarm = Literal["harm", "serious", "especially_serious"]
OsFamily = Literal["linux", "windows", "bsd", "macos", "network", "other"]
Transport = Literal["ssh", "local"]
DossierItem = Literal["overview", "design", "justification", "security_plan", "infosec_opinion"]
DOSSIER_ITEMS: tuple[str, ...] = get_args(DossierItem)

Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]+$", max_length=64)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=300)]
HostName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=128)]
ScopeName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=64)]
Short = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Regime = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+$", max_length=32)]

HOST_KEY = re.compile(r"^SHA256:[A-Za-z0-9+/]{43}=?$")
SERVICE = re.compile(r"^(\d{1,5})/(tcp|udp)$")
#: Keys refused anywhere in an inventory: secops never stores secrets.
PASSWORD_KEYS = frozenset({"password", "passwd", "ssh_password", "passphrase", "ssh_passphrase"})


class _Entry(BaseModel):
    """Shared rules: unknown fields are errors, blank text means "not given"."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, coerce_numbers_to_str=True)

    @model_validator(mode="before")
    @classmethod
    def _blank_is_none(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: (None if isinstance(v, str) and not v.strip() else v) for k, v in data.items()}
        return data


def _none_to_list(value: Any) -> Any:
    return [] if value is None else value


class AgencyIn(_Entry):
    code: Code
    name: Name
    parent: Code | None = None


class SystemIn(_Entry):
    code: Code
    name: Name
    description: str | None = None
    owner: Code
    operator: Code | None = None
    function: Function | None = None
    information: list[Information] = Field(default_factory=list)
    online_public_service_level: Annotated[StrictInt, Field(ge=0, le=4)] | None = None
    conditional_business_service: StrictBool | None = None
    personal_data_users: Annotated[StrictInt, Field(ge=0)] | None = None
    infrastructure_scope: InfrastructureScope | None = None
    ics_construction_grade: IcsGrade | None = None
    state_secret_harm: StateSecretHarm | None = None
    national_egov_24x7: StrictBool | None = None
    national_critical_data: StrictBool | None = None
    designated_level_5: StrictBool | None = None
    components: list[Code] = Field(default_factory=list)
    regime: Regime = "decree85"
    dossier: dict[DossierItem, Annotated[str, StringConstraints(min_length=1)] | Literal[True]] = Field(
        default_factory=dict
    )

    @field_validator("information", "components", mode="before")
    @classmethod
    def _list_or_empty(cls, value: Any) -> Any:
        return _none_to_list(value)

    @field_validator("dossier", mode="before")
    @classmethod
    def _dossier_or_empty(cls, value: Any) -> Any:
        return {} if value is None else value

    @field_validator("regime", mode="before")
    @classmethod
    def _regime_default(cls, value: Any) -> Any:
        return "decree85" if value is None else value

    @field_validator("information", "components")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


class SshIn(_Entry):
    user: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    port: Annotated[StrictInt, Field(ge=1, le=65535)] | None = None
    key: str | None = None
    known_hosts: str | None = None
    host_key: str | None = None
    sudo: StrictBool | None = None

    @field_validator("host_key")
    @classmethod
    def _fingerprint(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not HOST_KEY.match(value):
            raise ValueError(
                _("host_key must be an OpenSSH SHA256 fingerprint like SHA256:<43 base64 characters>")
            )
        return value.rstrip("=")


class HostIn(_Entry):
    name: HostName
    address: str
    system: Code | None = None
    os: OsFamily | None = None
    zone: Short | None = None
    transport: Transport = "ssh"
    ssh: SshIn | None = None
    services: list[str] = Field(default_factory=list)

    @field_validator("address")
    @classmethod
    def _ip(cls, value: str) -> str:
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            raise ValueError(_("{value!r} is not an IP address").format(value=value)) from None

    @field_validator("transport", mode="before")
    @classmethod
    def _transport_default(cls, value: Any) -> Any:
        return "ssh" if value is None else value

    @field_validator("services", mode="before")
    @classmethod
    def _services_or_empty(cls, value: Any) -> Any:
        return _none_to_list(value)

    @field_validator("services")
    @classmethod
    def _service_shape(cls, value: list[str]) -> list[str]:
        out: list[str] = []
        for item in value:
            match = SERVICE.match(item.strip().lower())
            if not match or not 1 <= int(match.group(1)) <= 65535:
                raise ValueError(
                    _("{value!r} is not a service like 22/tcp or 161/udp (port 1–65535)").format(value=item)
                )
            out.append(f"{int(match.group(1))}/{match.group(2)}")
        return list(dict.fromkeys(out))


class ScopeIn(_Entry):
    name: ScopeName
    cidr: str
    zone: Short | None = None
    owner: Code | None = None

    @field_validator("cidr")
    @classmethod
    def _network(cls, value: str) -> str:
        try:
            return str(ipaddress.ip_network(value, strict=True))
        except ValueError as exc:
            raise ValueError(
                _("{value!r} is not a network in CIDR notation ({reason})").format(value=value, reason=exc)
            ) from None


MODELS: dict[str, type[_Entry]] = {
    "agencies": AgencyIn,
    "systems": SystemIn,
    "hosts": HostIn,
    "scopes": ScopeIn,
}
#: The key that identifies an entry of each kind (upsert key).
KEYS = {"agencies": "code", "systems": "code", "hosts": "name", "scopes": "name"}
