"""Read-only pictures of inventory objects for listings and ``show`` (stable English keys for JSON).

``system_detail`` asks the level engine (``secops.levels.procedure.describe``) who appraises and approves
and which dossier items are needed; without it, the dossier is listed from the recorded items only.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlmodel import Session

from secops.i18n import _
from secops.inventory import queries
from secops.inventory.schema import DOSSIER_ITEMS
from secops.levels.engine import reason_view
from secops.models import Agency, Host, Scope, System
from secops.models.system import CLASSIFICATION_INPUTS

INPUT_FIELDS = CLASSIFICATION_INPUTS
#: Dossier item titles (Decree 85 Art. 15) used only when the level engine is not installed.
DOSSIER_TITLES = {
    "overview": "Overview description of the system",
    "design": "Design document",
    "justification": "Statement justifying the proposed level",
    "security_plan": "Security plan for the level",
    "infosec_opinion": "Professional opinion of the information-security unit",
}


def _describe() -> Callable[..., dict[str, Any]] | None:
    """The level engine's ``describe`` if it is installed (it is developed separately)."""
    try:
        module = importlib.import_module("secops.levels.procedure")
    except ModuleNotFoundError as exc:
        if exc.name in ("secops.levels", "secops.levels.procedure"):
            return None
        raise
    return getattr(module, "describe", None)


def _agency(agencies: dict[int, Agency], agency_id: int | None) -> dict[str, str] | None:
    agency = agencies.get(agency_id) if agency_id is not None else None
    return None if agency is None else {"code": agency.code, "name": agency.name}


def system_rows(session: Session) -> list[dict[str, Any]]:
    """One row per system for ``system list``."""
    agencies = queries.agencies_by_id(session)
    counts = queries.host_counts(session)
    rows = []
    for s in queries.list_systems(session):
        operator = agencies.get(s.operator_id) if s.operator_id is not None else None
        rows.append(
            {
                "code": s.code,
                "name": s.name,
                "owner": agencies[s.owner_id].code,
                "operator": operator.code if operator else None,
                "proposed_level": s.proposed_level,
                "status": queries.system_status(s),
                "approved_level": s.approved_level,
                "hosts": counts.get(s.id or 0, 0),
            }
        )
    return rows


def host_row(host: Host, systems: dict[int, str]) -> dict[str, Any]:
    return {
        "name": host.name,
        "address": host.address,
        "system": systems.get(host.system_id) if host.system_id is not None else None,
        "os": host.os,
        "zone": host.zone,
        "transport": host.transport,
    }


def host_detail(session: Session, host: Host) -> dict[str, Any]:
    system = session.get(System, host.system_id) if host.system_id is not None else None
    return {
        **host_row(host, {system.id: system.code} if system and system.id is not None else {}),
        "system_name": system.name if system else None,
        "ssh": {
            "user": host.ssh_user,
            "port": host.ssh_port,
            "key": host.ssh_key,
            "known_hosts": host.known_hosts,
            "host_key": host.host_key,
            "sudo": host.sudo,
        },
        "services": list(host.services or []),
    }


def scope_row(scope: Scope) -> dict[str, Any]:
    return {"name": scope.name, "cidr": scope.cidr, "zone": scope.zone, "owner": scope.owner}


def _dossier_fallback(system: System) -> list[dict[str, Any]]:
    recorded = system.dossier or {}
    return [
        {
            "id": item,
            "title": _(DOSSIER_TITLES[item]),
            "required": None,
            "present": item in recorded,
            "ref": None if recorded.get(item) in (None, True) else str(recorded[item]),
        }
        for item in DOSSIER_ITEMS
    ]


def system_detail(
    session: Session, system: System, lang: str, catalogs: Sequence[Path] = ()
) -> dict[str, Any]:
    """Everything about one system: inputs, agencies, components, hosts, level, approval, procedure."""
    agencies = queries.agencies_by_id(session)
    describe = _describe()
    if describe is not None:
        described = describe(system, lang, catalogs) if catalogs else describe(system, lang)
        procedure: dict[str, Any] = {
            "available": True,
            "appraisal": described.get("appraisal"),
            "approval": described.get("approval"),
        }
        dossier = [
            {k: d.get(k) for k in ("id", "title", "required", "present", "ref")}
            for d in described.get("dossier", [])
        ]
    else:
        procedure = {"available": False, "appraisal": None, "approval": None}
        dossier = _dossier_fallback(system)
    approved = system.approved_level is not None
    return {
        "code": system.code,
        "name": system.name,
        "description": system.description,
        "regime": system.regime,
        "owner": _agency(agencies, system.owner_id),
        "operator": _agency(agencies, system.operator_id),
        "inputs": {field: getattr(system, field) for field in INPUT_FIELDS},
        "components": [
            {
                "code": c.code,
                "name": c.name,
                "proposed_level": c.proposed_level,
                "approved_level": c.approved_level,
                "status": queries.system_status(c),
            }
            for c in queries.components_of(session, system)
        ],
        "part_of": [p.code for p in queries.parents_of(session, system)],
        "hosts": [
            host_row(h, {system.id: system.code} if system.id is not None else {})
            for h in queries.list_hosts(session, system.code)
        ],
        "status": queries.system_status(system),
        "proposed": {
            "level": system.proposed_level,
            "status": system.proposed_status,
            "reasons": [reason_view(r) for r in system.proposed_reasons or []],  # in the active language
            "missing": list(system.proposed_missing or []),
        },
        "approval": {
            "level": system.approved_level,
            "decision_ref": system.decision_ref,
            "decision_date": system.decision_date.isoformat() if system.decision_date else None,
            "approver": system.approver,
            "reason": system.approval_reason,
        }
        if approved
        else None,
        "procedure": procedure,
        "dossier": dossier,
    }
