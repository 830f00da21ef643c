"""Inventory look-ups shared by the CLI, the level engine, the demo and other features.

Getters raise ``NotFoundError`` with a message a user can act on; listers return rows sorted by code/name.
"""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from secops.errors import NotFoundError
from secops.i18n import _
from secops.models import Agency, Host, Scope, System, SystemComponent


def get_agency(session: Session, code: str) -> Agency:
    agency = session.exec(select(Agency).where(Agency.code == code)).first()
    if agency is None:
        raise NotFoundError(_("no agency with code {code!r}").format(code=code))
    return agency


def list_agencies(session: Session) -> list[Agency]:
    return list(session.exec(select(Agency).order_by(Agency.code)).all())


def agencies_by_id(session: Session) -> dict[int, Agency]:
    return {a.id: a for a in list_agencies(session) if a.id is not None}


def get_system(session: Session, code: str) -> System:
    system = session.exec(select(System).where(System.code == code)).first()
    if system is None:
        raise NotFoundError(_("no system with code {code!r} (see `secops system list`)").format(code=code))
    return system


def list_systems(session: Session, codes: list[str] | None = None) -> list[System]:
    """All systems, or those of ``codes`` (every code must exist)."""
    if codes:
        return [get_system(session, code) for code in codes]
    return list(session.exec(select(System).order_by(System.code)).all())


def components_of(session: Session, system: System) -> list[System]:
    """The direct component systems of ``system`` (Art. 5.2)."""
    stmt = (
        select(System)
        .join(SystemComponent, SystemComponent.child_id == System.id)  # type: ignore[arg-type]
        .where(SystemComponent.parent_id == system.id)
        .order_by(System.code)
    )
    return list(session.exec(stmt).all())


def parents_of(session: Session, system: System) -> list[System]:
    """The systems that ``system`` is a component of."""
    stmt = (
        select(System)
        .join(SystemComponent, SystemComponent.parent_id == System.id)  # type: ignore[arg-type]
        .where(SystemComponent.child_id == system.id)
        .order_by(System.code)
    )
    return list(session.exec(stmt).all())


def component_map(session: Session) -> dict[str, list[str]]:
    """Every system code → its direct component codes (sorted); systems without components map to []."""
    parent, child = aliased(System), aliased(System)
    rows = session.exec(
        select(parent.code, child.code)
        .join(SystemComponent, SystemComponent.parent_id == parent.id)  # type: ignore[arg-type]
        .join(child, SystemComponent.child_id == child.id)  # type: ignore[arg-type]
    ).all()
    out: dict[str, list[str]] = {code: [] for code in session.exec(select(System.code)).all()}
    for p, c in rows:
        out[p].append(c)
    return {code: sorted(children) for code, children in sorted(out.items())}


def get_host(session: Session, name: str) -> Host:
    host = session.exec(select(Host).where(Host.name == name)).first()
    if host is None:
        raise NotFoundError(_("no host named {name!r} (see `secops host list`)").format(name=name))
    return host


def list_hosts(session: Session, system: str | None = None) -> list[Host]:
    """All hosts, or those of the system with code ``system``."""
    stmt = select(Host).order_by(Host.name)
    if system is not None:
        stmt = stmt.where(Host.system_id == get_system(session, system).id)
    return list(session.exec(stmt).all())


def host_counts(session: Session) -> dict[int, int]:
    """system id → number of hosts."""
    rows = session.exec(select(Host.system_id, func.count()).group_by(Host.system_id)).all()  # type: ignore[arg-type]
    return {sid: n for sid, n in rows if sid is not None}


def get_scope(session: Session, name: str) -> Scope:
    scope = session.exec(select(Scope).where(Scope.name == name)).first()
    if scope is None:
        raise NotFoundError(_("no scope named {name!r} (see `secops scope list`)").format(name=name))
    return scope


def list_scopes(session: Session) -> list[Scope]:
    return list(session.exec(select(Scope).order_by(Scope.name)).all())


def system_status(system: System) -> str:
    """approved | proposed | undetermined | unclassified."""
    if system.approved_level is not None:
        return "approved"
    if system.proposed_status in ("proposed", "undetermined"):
        return system.proposed_status
    return "unclassified"
