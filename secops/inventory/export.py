"""Export the inventory in the import format (YAML, JSON, or one CSV file per kind), a backup that
imports back.

Entries are sorted by code/name and every field is written (nulls included), so an export of an imported
export is byte-for-byte identical.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import yaml
from sqlmodel import Session, select

from secops.inventory.flat import COLUMNS, flatten
from secops.inventory.schema import DOSSIER_ITEMS, KINDS
from secops.models import Agency, Host, Scope, System, SystemComponent


def export_document(session: Session) -> dict[str, list[dict[str, Any]]]:
    """The whole inventory as the document ``import_files`` reads."""
    agencies = list(session.exec(select(Agency).order_by(Agency.code)).all())
    agency_code = {a.id: a.code for a in agencies}
    systems = list(session.exec(select(System).order_by(System.code)).all())
    system_code = {s.id: s.code for s in systems}
    components: dict[int, list[str]] = {}
    for link in session.exec(select(SystemComponent)).all():
        components.setdefault(link.parent_id, []).append(system_code[link.child_id])
    hosts = session.exec(select(Host).order_by(Host.name)).all()
    scopes = session.exec(select(Scope).order_by(Scope.name)).all()
    return {
        "agencies": [
            {"code": a.code, "name": a.name, "parent": agency_code.get(a.parent_id) if a.parent_id else None}
            for a in agencies
        ],
        "systems": [_system(s, agency_code, sorted(components.get(s.id or 0, []))) for s in systems],
        "hosts": [_host(h, system_code) for h in hosts],
        "scopes": [{"name": s.name, "cidr": s.cidr, "zone": s.zone, "owner": s.owner} for s in scopes],
    }


def _system(s: System, agency_code: dict[int | None, str], components: list[str]) -> dict[str, Any]:
    return {
        "code": s.code,
        "name": s.name,
        "description": s.description,
        "owner": agency_code[s.owner_id],
        "operator": agency_code.get(s.operator_id) if s.operator_id else None,
        "function": s.function,
        "information": list(s.information or []),
        "online_public_service_level": s.online_public_service_level,
        "conditional_business_service": s.conditional_business_service,
        "personal_data_users": s.personal_data_users,
        "infrastructure_scope": s.infrastructure_scope,
        "ics_construction_grade": s.ics_construction_grade,
        "state_secret_harm": s.state_secret_harm,
        "national_egov_24x7": s.national_egov_24x7,
        "national_critical_data": s.national_critical_data,
        "designated_level_5": s.designated_level_5,
        "components": components,
        "regime": s.regime,
        "dossier": {item: s.dossier[item] for item in DOSSIER_ITEMS if item in (s.dossier or {})},
    }


def _host(h: Host, system_code: dict[int | None, str]) -> dict[str, Any]:
    return {
        "name": h.name,
        "address": h.address,
        "system": system_code.get(h.system_id) if h.system_id else None,
        "os": h.os,
        "zone": h.zone,
        "transport": h.transport,
        "ssh": {
            "user": h.ssh_user,
            "port": h.ssh_port,
            "key": h.ssh_key,
            "known_hosts": h.known_hosts,
            "host_key": h.host_key,
            "sudo": h.sudo,
        },
        "services": list(h.services or []),
    }


def dump_yaml(doc: dict[str, Any]) -> str:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, default_flow_style=False, width=1000)


def dump_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def write_csv(doc: dict[str, list[dict[str, Any]]], directory: Path) -> list[Path]:
    """Write ``agencies.csv``, ``systems.csv``, ``hosts.csv`` and ``scopes.csv`` into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for kind in KINDS:
        path = directory / f"{kind}.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(COLUMNS[kind])
            for entry in doc.get(kind, []):
                writer.writerow(flatten(kind, entry))
        written.append(path)
    return written
