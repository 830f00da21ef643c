"""Waivers: approved, scoped, expiring exceptions for one check.

A waiver covers a host-name glob or a whole system. It changes a result's status to ``waived`` and keeps the
evaluated status beside it, so nothing is hidden; once ``expires_at`` passes it simply stops matching.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase

from sqlmodel import Session, select

from secops import audit
from secops.compliance.common import WAIVABLE, parse_expiry
from secops.errors import InputError, NotFoundError
from secops.i18n import _
from secops.models import System
from secops.models.compliance import Waiver
from secops.timeutil import DEFAULT_TZ, utcnow


def add_waiver(
    session: Session,
    actor: str,
    *,
    check_id: str,
    host_pattern: str | None,
    system_code: str | None,
    reason: str,
    approver: str,
    expires: str,
    known_checks: Collection[str],
    tz: str = DEFAULT_TZ,
) -> Waiver:
    """Validate and store a waiver (audited). Exactly one scope: a host pattern or a system."""
    if check_id not in known_checks:
        raise InputError(_("unknown check {check!r} (see `secops check list`)").format(check=check_id))
    if (host_pattern is None) == (system_code is None):
        raise InputError(_("give exactly one scope: --host PATTERN or --system CODE"))
    if host_pattern is not None and not host_pattern.strip():
        raise InputError(_("the host pattern is empty"))
    if not reason.strip():
        raise InputError(_("a waiver needs a reason"))
    if not approver.strip():
        raise InputError(_("a waiver needs an approver"))
    system_id = None
    if system_code is not None:
        system = session.exec(select(System).where(System.code == system_code)).first()
        if system is None:
            raise NotFoundError(_("no system {code!r}").format(code=system_code))
        system_id = system.id
    waiver = Waiver(
        check_id=check_id,
        host_pattern=host_pattern.strip() if host_pattern else None,
        system_id=system_id,
        reason=reason.strip(),
        approver=approver.strip(),
        expires_at=parse_expiry(expires, tz),
        actor=actor,
    )
    session.add(waiver)
    session.flush()
    audit.record(session, actor, "waiver.create", "waiver", str(waiver.id), after=audit.snapshot(waiver))
    return waiver


def all_waivers(session: Session) -> list[Waiver]:
    return list(session.exec(select(Waiver).order_by(Waiver.id)))  # type: ignore[arg-type]


def is_active(waiver: Waiver, at: datetime) -> bool:
    return waiver.expires_at > at


@dataclass(frozen=True)
class WaiverIndex:
    """The waivers in force at one moment, for fast matching during evaluation and scoring."""

    waivers: Sequence[Waiver]
    at: datetime

    @classmethod
    def load(cls, session: Session, at: datetime | None = None) -> WaiverIndex:
        at = at or utcnow()
        return cls([w for w in all_waivers(session) if is_active(w, at)], at)

    def match(self, check_id: str, host_name: str, system_id: int | None, status: str) -> Waiver | None:
        """The first active waiver covering this result, or None (pass and not_applicable need none)."""
        if status not in WAIVABLE:
            return None
        for waiver in self.waivers:
            if waiver.check_id != check_id:
                continue
            if waiver.system_id is not None and waiver.system_id == system_id:
                return waiver
            if waiver.host_pattern is not None and fnmatchcase(host_name, waiver.host_pattern):
                return waiver
        return None


@dataclass(frozen=True)
class WaiverProblem:
    waiver_id: int
    check: str
    problem: str  # expired | missing_reason | missing_approver | unknown_check
    message: str


def lint_waivers(
    session: Session, known_checks: Collection[str], at: datetime | None = None
) -> list[WaiverProblem]:
    """Waivers that need attention: expired, without a reason or approver, or naming an unknown check."""
    at = at or utcnow()
    problems: list[WaiverProblem] = []
    for w in all_waivers(session):
        wid = w.id or 0
        if not is_active(w, at):
            problems.append(WaiverProblem(wid, w.check_id, "expired", _("expired; renew it or remove it")))
        if not (w.reason or "").strip():
            problems.append(WaiverProblem(wid, w.check_id, "missing_reason", _("no reason given")))
        if not (w.approver or "").strip():
            problems.append(WaiverProblem(wid, w.check_id, "missing_approver", _("no approver given")))
        if w.check_id not in known_checks:
            problems.append(
                WaiverProblem(wid, w.check_id, "unknown_check", _("the check is not in the catalog"))
            )
    return problems
