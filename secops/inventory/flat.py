"""The flat (CSV/XLSX) shape of each kind: fixed columns, ``;``-separated lists, ``ssh_*`` and ``dossier_*``.

Shared by the CSV/XLSX readers (cells → nested entry) and the CSV exporter (entry → cells).
"""

from __future__ import annotations

import re
from typing import Any

from secops.inventory.schema import DOSSIER_ITEMS
from secops.models.system import CLASSIFICATION_INPUTS

SSH_FIELDS = ("user", "port", "key", "known_hosts", "host_key", "sudo")
SSH_COLUMNS = {f"ssh_{name}": name for name in SSH_FIELDS}
DOSSIER_COLUMNS = {f"dossier_{item}": item for item in DOSSIER_ITEMS}

COLUMNS: dict[str, list[str]] = {
    "agencies": ["code", "name", "parent"],
    "systems": [
        "code",
        "name",
        "description",
        "owner",
        "operator",
        *CLASSIFICATION_INPUTS,
        "components",
        "regime",
        *DOSSIER_COLUMNS,
    ],
    "hosts": ["name", "address", "system", "os", "zone", "transport", *SSH_COLUMNS, "services"],
    "scopes": ["name", "cidr", "zone", "owner"],
}
LIST_FIELDS = frozenset({"information", "components", "services"})
BOOL_FIELDS = frozenset(
    {
        "conditional_business_service",
        "national_egov_24x7",
        "national_critical_data",
        "designated_level_5",
        "ssh_sudo",
    }
)
INT_FIELDS = frozenset({"online_public_service_level", "personal_data_users", "ssh_port"})
TRUE = frozenset({"true", "yes", "1"})
FALSE = frozenset({"false", "no", "0"})
_INT = re.compile(r"^[+-]?\d+$")


def cell_value(column: str, value: Any) -> Any:
    """One CSV/XLSX cell as the value the nested entry would hold (empty = null)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
    if value is None:
        return None
    if column in LIST_FIELDS:
        if isinstance(value, str):
            return [part.strip() for part in value.split(";") if part.strip()]
        return [value]
    if column in BOOL_FIELDS:
        if isinstance(value, str) and value.lower() in TRUE | FALSE:
            return value.lower() in TRUE
        if isinstance(value, int) and not isinstance(value, bool) and value in (0, 1):
            return bool(value)
        return value
    if column in INT_FIELDS and isinstance(value, str) and _INT.match(value):
        return int(value)
    if column in DOSSIER_COLUMNS and isinstance(value, str) and value.lower() == "true":
        return True
    return value


def unflatten(row: dict[str, Any]) -> dict[str, Any]:
    """Turn a row of cells into a nested entry. Groups whose columns are present replace the whole group."""
    out: dict[str, Any] = {}
    ssh: dict[str, Any] | None = None
    dossier: dict[str, Any] | None = None
    for column, raw in row.items():
        value = cell_value(column, raw)
        if column in SSH_COLUMNS:
            ssh = ssh if ssh is not None else {}
            if value is not None:
                ssh[SSH_COLUMNS[column]] = value
        elif column in DOSSIER_COLUMNS:
            dossier = dossier if dossier is not None else {}
            if value is not None:
                dossier[DOSSIER_COLUMNS[column]] = value
        else:
            out[column] = value
    if ssh is not None:
        out["ssh"] = ssh
    if dossier is not None:
        out["dossier"] = dossier
    return out


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value)


def flatten(kind: str, entry: dict[str, Any]) -> list[str]:
    """An exported entry as the cells of its CSV row, in ``COLUMNS[kind]`` order."""
    ssh = entry.get("ssh") or {}
    dossier = entry.get("dossier") or {}
    cells: list[str] = []
    for column in COLUMNS[kind]:
        if column in SSH_COLUMNS:
            cells.append(_text(ssh.get(SSH_COLUMNS[column])))
        elif column in DOSSIER_COLUMNS:
            cells.append(_text(dossier.get(DOSSIER_COLUMNS[column])))
        else:
            cells.append(_text(entry.get(column)))
    return cells
