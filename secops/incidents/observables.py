"""Observables (ip, domain, url, hash, email) with TLP 2.0 labels: add, extract from notes, search."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from sqlmodel import Session, col, select

from secops.errors import InputError
from secops.incidents import timeline
from secops.incidents.lifecycle import record
from secops.incidents.vocab import TLP_LEVELS, choice
from secops.models.incident import Incident, Observable, TimelineEvent
from secops.timeutil import utcnow

TYPES = ("ip", "domain", "url", "hash", "email")
_LABEL = r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)"
_DOMAIN = re.compile(rf"^(?:{_LABEL}\.)+[a-z][a-z0-9-]{{1,62}}$")
_EMAIL = re.compile(rf"^[a-z0-9._%+-]+@(?:{_LABEL}\.)+[a-z]{{2,63}}$")
_HASH_LENGTHS = (32, 40, 64, 128)
# Words that look like domains in prose but are file names.
_FILE_SUFFIXES = {
    "exe",
    "dll",
    "pdf",
    "doc",
    "docx",
    "xls",
    "xlsx",
    "txt",
    "log",
    "zip",
    "rar",
    "7z",
    "js",
    "php",
    "html",
    "htm",
    "png",
    "jpg",
    "jpeg",
    "py",
    "sh",
    "bat",
    "ps1",
    "lock",
    "tmp",
    "bak",
    "conf",
    "ini",
    "json",
    "xml",
    "csv",
    "yaml",
    "yml",
    "sql",
    "tar",
    "gz",
    "iso",
    "vbs",
    "lnk",
    "encrypted",
}


def refang(text: str) -> str:
    """Undo the usual defanging: ``hxxp://``, ``[.]``, ``(.)``, ``[@]``."""
    return (
        text.replace("hxxp", "http")
        .replace("[.]", ".")
        .replace("(.)", ".")
        .replace("[@]", "@")
        .replace("[:]", ":")
    )


def normalize(kind: str, value: str) -> str:
    """Validate ``value`` as ``kind`` and return its canonical form; raise InputError otherwise."""
    choice(kind, TYPES, "observable type")
    v = refang(value.strip())
    if kind == "ip":
        try:
            return str(ipaddress.ip_address(v))
        except ValueError as exc:
            raise InputError(f"not an IP address: {value!r}") from exc
    if kind == "domain":
        v = v.lower().rstrip(".")
        if not _DOMAIN.match(v):
            raise InputError(f"not a domain name: {value!r}")
        return v
    if kind == "url":
        parts = urlsplit(v)
        if parts.scheme.lower() not in ("http", "https", "ftp") or not parts.netloc:
            raise InputError(f"not a URL (http, https or ftp with a host): {value!r}")
        return v
    if kind == "hash":
        v = v.lower()
        if len(v) not in _HASH_LENGTHS or any(c not in "0123456789abcdef" for c in v):
            raise InputError(f"not an MD5, SHA-1, SHA-256 or SHA-512 hex digest: {value!r}")
        return v
    v = v.lower()
    if not _EMAIL.match(v):
        raise InputError(f"not an e-mail address: {value!r}")
    return v


_URL_RE = re.compile(r"\b(?:https?|ftp)://[^\s<>\"'\]\)]+", re.IGNORECASE)
_EMAIL_RE = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,63}\b")
_IPV4_RE = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
_IPV6_RE = re.compile(r"(?<![\w:])(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}(?![\w:])")
_HASH_RE = re.compile(r"\b[0-9a-fA-F]{32,128}\b")
_DOMAIN_RE = re.compile(r"\b(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}\b")


def extract(text: str) -> list[tuple[str, str]]:
    """Find observables in free text; each (type, value) once, in the order found."""
    text = refang(text)
    found: dict[tuple[str, str], None] = {}
    rest = text
    for regex, kind in ((_URL_RE, "url"), (_EMAIL_RE, "email")):
        for m in regex.finditer(rest):
            value = m.group(0).rstrip(".,;:")
            try:
                found[(kind, normalize(kind, value))] = None
            except InputError:
                continue
        rest = regex.sub(" ", rest)
    for regex, kind in ((_IPV4_RE, "ip"), (_IPV6_RE, "ip"), (_HASH_RE, "hash")):
        for m in regex.finditer(rest):
            try:
                found[(kind, normalize(kind, m.group(0)))] = None
            except InputError:
                continue
        rest = regex.sub(" ", rest)
    for m in _DOMAIN_RE.finditer(rest):
        value = m.group(0).lower()
        if value.rsplit(".", 1)[-1] in _FILE_SUFFIXES:
            continue
        try:
            found[("domain", normalize("domain", value))] = None
        except InputError:
            continue
    return list(found)


def list_observables(session: Session, incident: Incident) -> list[Observable]:
    stmt = select(Observable).where(Observable.incident_id == incident.id)
    return list(session.exec(stmt.order_by(col(Observable.id))))


def _add(
    session: Session, actor: str, incident: Incident, kind: str, value: str, tlp: str, source: str
) -> Observable | None:
    assert incident.id is not None
    exists = session.exec(
        select(Observable).where(
            Observable.incident_id == incident.id, Observable.type == kind, Observable.value == value
        )
    ).first()
    if exists is not None:
        return None
    obs = Observable(
        incident_id=incident.id,
        type=kind,
        value=value,
        tlp=tlp,
        source=source,
        added_by=actor,
        added_at=utcnow(),
    )
    session.add(obs)
    session.flush()
    record(
        session,
        actor,
        incident,
        "observable_added",
        {"type": kind, "value": value, "tlp": tlp, "source": source},
    )
    return obs


def add_observable(
    session: Session, actor: str, code: str, kind: str, value: str, tlp: str = "amber"
) -> Observable:
    choice(tlp, TLP_LEVELS, "TLP label")
    norm = normalize(kind, value)
    incident = timeline.lock_incident(session, code)
    obs = _add(session, actor, incident, kind, norm, tlp, "manual")
    if obs is None:
        raise InputError(f"{code} already has {kind} {norm}")
    return obs


def extract_from_notes(
    session: Session, actor: str, code: str, tlp: str | None = None, only_seq: int | None = None
) -> list[Observable]:
    """Add the observables found in the incident's notes (or in note ``only_seq``); known ones are skipped."""
    incident = timeline.lock_incident(session, code)
    label = choice(tlp or incident.tlp, TLP_LEVELS, "TLP label")
    stmt = select(TimelineEvent).where(
        TimelineEvent.incident_id == incident.id, col(TimelineEvent.kind).in_(("note", "correction"))
    )
    if only_seq is not None:
        stmt = stmt.where(TimelineEvent.seq == only_seq)
    added = []
    for event in list(session.exec(stmt.order_by(col(TimelineEvent.seq)))):
        for kind, value in extract(str(event.data.get("text", ""))):
            obs = _add(session, actor, incident, kind, value, label, f"note:{event.seq}")
            if obs is not None:
                added.append(obs)
    return added


def search(session: Session, value: str) -> list[tuple[Incident, Observable]]:
    """Observables whose value contains ``value`` (case-insensitive), across every incident."""
    needle = refang(value.strip()).lower()
    if not needle:
        raise InputError("give a value to search for")
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    stmt = (
        select(Incident, Observable)
        .join(Observable, col(Observable.incident_id) == Incident.id)
        .where(col(Observable.value).ilike(f"%{escaped}%", escape="\\"))
        .order_by(col(Incident.code), col(Observable.id))
    )
    return [(i, o) for i, o in session.exec(stmt)]
