"""Upsert a validated inventory into the database, with one AuditEvent per created or changed row.

Agencies and systems are matched by code, hosts and scopes by name. Only the fields an entry gives are
written (an explicit null clears a field); unchanged rows write nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, SQLModel, select

from secops import audit
from secops.inventory.schema import KINDS
from secops.inventory.validate import Plan, Valid
from secops.models import Agency, Host, Scope, System, SystemComponent
from secops.models.system import CLASSIFICATION_INPUTS

SYSTEM_FIELDS = (
    "name",
    "description",
    *CLASSIFICATION_INPUTS,
    "regime",
    "dossier",
)
HOST_FIELDS = ("address", "os", "zone", "transport", "services")
SSH_ATTRS = {
    "user": "ssh_user",
    "port": "ssh_port",
    "key": "ssh_key",
    "known_hosts": "known_hosts",
    "host_key": "host_key",
    "sudo": "sudo",
}
OBJECT_TYPES = {"agencies": "agency", "systems": "system", "hosts": "host", "scopes": "scope"}


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class _Change:
    kind: str
    key: str
    obj: SQLModel
    before: dict[str, Any] | None


def _set(obj: SQLModel, attr: str, value: Any) -> None:
    """Assign only real changes, so SQLAlchemy has nothing to write for an unchanged row."""
    if getattr(obj, attr) != value:
        setattr(
            obj,
            attr,
            list(value) if isinstance(value, list) else dict(value) if isinstance(value, dict) else value,
        )


class _Applier:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.agencies = {a.code: a for a in session.exec(select(Agency)).all()}
        self.systems = {s.code: s for s in session.exec(select(System)).all()}
        codes = {s.id: s.code for s in self.systems.values()}
        self.components: dict[str, list[str]] = {}
        self.links: dict[int, list[SystemComponent]] = {}
        for link in session.exec(select(SystemComponent)).all():
            self.components.setdefault(codes[link.parent_id], []).append(codes[link.child_id])
            self.links.setdefault(link.parent_id, []).append(link)
        self.changes: list[_Change] = []

    def snapshot(self, kind: str, obj: SQLModel) -> dict[str, Any]:
        snap = audit.snapshot(obj) or {}
        if kind == "systems":
            snap["components"] = sorted(self.components.get(str(getattr(obj, "code", "")), []))
        return snap

    def _before(self, kind: str, current: SQLModel | None) -> dict[str, Any] | None:
        return self.snapshot(kind, current) if current is not None else None

    def agencies_pass(self, entries: list[Valid]) -> None:
        for v in entries:
            obj = self.agencies.get(v.key)
            before = self._before("agencies", obj)
            if obj is None:
                obj = Agency(code=v.key, name=v.model.name)
                self.session.add(obj)
                self.agencies[v.key] = obj
            _set(obj, "name", v.model.name)
            self.changes.append(_Change("agencies", v.key, obj, before))
        self.session.flush()
        for v in entries:
            if "parent" in v.given:
                parent = v.model.parent
                _set(self.agencies[v.key], "parent_id", self.agencies[parent].id if parent else None)

    def systems_pass(self, entries: list[Valid]) -> None:
        for v in entries:
            obj = self.systems.get(v.key)
            before = self._before("systems", obj)
            owner_id = self.agencies[v.model.owner].id
            assert owner_id is not None  # flushed in agencies_pass
            if obj is None:
                obj = System(code=v.key, name=v.model.name, owner_id=owner_id)
                self.session.add(obj)
                self.systems[v.key] = obj
            _set(obj, "owner_id", owner_id)
            if "operator" in v.given:
                _set(obj, "operator_id", self.agencies[v.model.operator].id if v.model.operator else None)
            for field in SYSTEM_FIELDS:
                if field in v.given or field == "name":
                    _set(obj, field, getattr(v.model, field))
            self.changes.append(_Change("systems", v.key, obj, before))
        self.session.flush()
        for v in entries:
            if "components" in v.given:
                self._set_components(self.systems[v.key], list(v.model.components))

    def _set_components(self, system: System, codes: list[str]) -> None:
        wanted = {self.systems[c].id for c in codes}
        assert system.id is not None
        links = self.links.get(system.id, [])
        for link in links:
            if link.child_id not in wanted:
                self.session.delete(link)
        have = {link.child_id for link in links}
        for child_id in sorted(i for i in wanted if i is not None and i not in have):
            self.session.add(SystemComponent(parent_id=system.id, child_id=child_id))
        self.components[system.code] = sorted(codes)

    def hosts_pass(self, entries: list[Valid]) -> None:
        hosts = {h.name: h for h in self.session.exec(select(Host)).all()} if entries else {}
        for v in entries:
            obj = hosts.get(v.key)
            before = self._before("hosts", obj)
            if obj is None:
                obj = Host(name=v.key, address=v.model.address)
                self.session.add(obj)
            for field in HOST_FIELDS:
                if field in v.given or field == "address":
                    _set(obj, field, getattr(v.model, field))
            if "system" in v.given:
                _set(obj, "system_id", self.systems[v.model.system].id if v.model.system else None)
            if "ssh" in v.given:
                ssh = v.model.ssh
                for name, attr in SSH_ATTRS.items():
                    value = getattr(ssh, name) if ssh is not None else None
                    _set(obj, attr, bool(value) if name == "sudo" else value)
            self.changes.append(_Change("hosts", v.key, obj, before))

    def scopes_pass(self, entries: list[Valid]) -> None:
        scopes = {s.name: s for s in self.session.exec(select(Scope)).all()} if entries else {}
        for v in entries:
            obj = scopes.get(v.key)
            before = self._before("scopes", obj)
            if obj is None:
                obj = Scope(name=v.key, cidr=v.model.cidr)
                self.session.add(obj)
            for field in ("cidr", "zone", "owner"):
                if field in v.given or field == "cidr":
                    _set(obj, field, getattr(v.model, field))
            self.changes.append(_Change("scopes", v.key, obj, before))


def apply_plan(session: Session, plan: Plan, actor: str) -> dict[str, Counts]:
    """Write ``plan`` in the caller's transaction; return created/updated/unchanged per kind."""
    applier = _Applier(session)
    applier.agencies_pass(plan["agencies"])
    applier.systems_pass(plan["systems"])
    applier.hosts_pass(plan["hosts"])
    applier.scopes_pass(plan["scopes"])
    session.flush()
    counts = {kind: Counts() for kind in KINDS}
    for change in applier.changes:
        after = applier.snapshot(change.kind, change.obj)
        tally = counts[change.kind]
        if change.before is None:
            tally.created += 1
            action = "inventory.create"
        elif change.before != after:
            tally.updated += 1
            action = "inventory.update"
        else:
            tally.unchanged += 1
            continue
        audit.record(
            session, actor, action, OBJECT_TYPES[change.kind], change.key, before=change.before, after=after
        )
    session.flush()
    return counts
