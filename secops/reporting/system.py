"""The auditors' and operators' report (``report system CODE``): requirement by requirement with status and
evidence (expected vs observed, host, time), attestations, waivers with their justification, and a fix list
grouped by remediation."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any

from sqlmodel import Session, col, select

from secops.compliance.common import severity_rank
from secops.compliance.summary import latest_run_for_host, score_systems
from secops.i18n import _, pick
from secops.levels.procedure import describe
from secops.models import Agency, Host, System
from secops.models.compliance import Attestation, CheckResult, CheckRun, FactBundle, Waiver
from secops.reporting.render import Report, language
from secops.timeutil import DEFAULT_TZ, utcnow

COLUMNS = (
    "requirement",
    "title",
    "min_level",
    "status",
    "via",
    "check",
    "host",
    "result",
    "expected",
    "observed",
    "collected_at",
    "detail",
)


def _evidence(session: Session, hosts: list[Host]) -> tuple[dict[str, list[dict[str, Any]]], list[int]]:
    """Latest results of every host of the system, keyed by check id, and the runs they come from."""
    by_check: dict[str, list[dict[str, Any]]] = defaultdict(list)
    runs: set[int] = set()
    for host in hosts:
        rid = latest_run_for_host(session, host.id or 0)
        if rid is None:
            continue
        runs.add(rid)
        stmt = (
            select(CheckResult, FactBundle.collected_at, CheckRun.finished_at)
            .join(CheckRun, col(CheckRun.id) == col(CheckResult.run_id))
            .outerjoin(FactBundle, col(FactBundle.id) == col(CheckResult.bundle_id))
            .where(CheckResult.run_id == rid, CheckResult.host_id == host.id)
            .order_by(col(CheckResult.check_id))
        )
        for res, collected, finished in session.exec(stmt).all():
            by_check[res.check_id].append(
                {
                    "host": res.host_name,
                    "run": res.run_id,
                    "status": res.status,
                    "original_status": res.original_status,
                    "severity": res.severity,
                    "expected": res.expected,
                    "observed": res.observed,
                    "detail": res.detail,
                    "collected_at": collected or finished,
                }
            )
    return by_check, sorted(runs)


def _covers(w: Waiver, system: System, names: list[str]) -> bool:
    return w.system_id == system.id or bool(w.host_pattern and any(fnmatchcase(n, w.host_pattern) for n in names))


def build_system(
    session: Session, catalog: Any, code: str, lang: str, *, now: datetime | None = None, tz: str = DEFAULT_TZ
) -> Report:
    now = now or utcnow()
    [score] = score_systems(session, catalog, [code], at=now)  # raises NotFoundError for an unknown code
    system = session.exec(select(System).where(System.code == code)).one()
    hosts = list(session.exec(select(Host).where(Host.system_id == system.id).order_by(col(Host.name))))
    names = [h.name for h in hosts]
    evidence, runs = _evidence(session, hosts)
    agencies = {a.id: a.name for a in session.exec(select(Agency))}
    with language(lang):
        requirements = []
        rows: list[dict[str, Any]] = []
        for state in score.requirements:
            req = catalog.requirements[state.id]
            applicable = system.effective_level is not None and state.min_level <= system.effective_level
            title = pick(req.title.model_dump(), lang)
            base = {"requirement": state.id, "title": title, "min_level": state.min_level, "status": state.state,
                    "via": state.via}  # fmt: skip
            checks = []
            for cid in req.checks:
                chk = catalog.checks.get(cid)
                results = evidence.get(cid, [])
                checks.append(
                    {"check": cid, "title": pick(chk.title.model_dump(), lang) if chk else cid, "results": results}
                )
                for res in results:
                    rows.append(
                        {
                            **base,
                            "check": cid,
                            "host": res["host"],
                            "result": res["status"],
                            "expected": res["expected"],
                            "observed": res["observed"],
                            "collected_at": res["collected_at"],
                            "detail": res["detail"],
                        }
                    )
            if not req.checks:
                rows.append(base)
            requirements.append(
                {
                    "id": state.id,
                    "title": title,
                    "group": req.group,
                    "min_level": state.min_level,
                    "applicable": applicable,
                    "status": state.state,
                    "via": state.via,
                    "source": req.source,
                    "manual": req.manual,
                    "checks": checks,
                    "blocking": state.blocking,
                    "waived": state.waived,
                }
            )
        attestations = [
            {
                "requirement": a.requirement_id,
                "status": a.status,
                "evidence": a.evidence_name,
                "sha256": a.evidence_sha256,
                "expires_at": a.expires_at,
                "valid": a.expires_at > now,
                "by": a.actor,
                "at": a.created_at,
            }
            for a in session.exec(
                select(Attestation).where(Attestation.system_id == system.id).order_by(col(Attestation.id))
            )
        ]
        waivers = [
            {
                "id": w.id,
                "check": w.check_id,
                "scope": w.host_pattern or code,
                "reason": w.reason,
                "approver": w.approver,
                "expires_at": w.expires_at,
                "active": w.expires_at > now,
            }
            for w in session.exec(select(Waiver).order_by(col(Waiver.id)))
            if _covers(w, system, names)
        ]
        fixes: dict[str, dict[str, Any]] = {}
        for cid, results in sorted(evidence.items()):
            failing = sorted({r["host"] for r in results if r["status"] == "fail"})
            chk = catalog.checks.get(cid)
            if not failing or chk is None:
                continue
            text = pick(chk.remediation.model_dump(), lang)
            entry = fixes.setdefault(text, {"remediation": text, "checks": [], "hosts": set()})
            entry["checks"].append(
                {"check": cid, "title": pick(chk.title.model_dump(), lang), "severity": chk.severity, "hosts": failing}
            )
            entry["hosts"].update(failing)
        fix_list = sorted(
            ({**f, "hosts": sorted(f["hosts"])} for f in fixes.values()),
            key=lambda f: (-max(severity_rank(c["severity"]) for c in f["checks"]), -len(f["hosts"]), f["remediation"]),
        )
        procedure = describe(system, lang, catalog.roots[1:] if len(catalog.roots) > 1 else ())
        title = _("Compliance report: {name}").format(name=system.name)
    data = {
        "system": {
            "code": system.code,
            "name": system.name,
            "owner": agencies.get(system.owner_id, ""),
            "operator": agencies.get(system.operator_id, "") if system.operator_id else "",
            "proposed_level": system.proposed_level,
            "approved_level": system.approved_level,
            "level": system.effective_level,
            "decision_ref": system.decision_ref,
            "decision_date": system.decision_date,
            "hosts": names,
        },
        "score": score.to_json(),
        "runs": runs,
        "procedure": procedure,
        "requirements": requirements,
        "attestations": attestations,
        "waivers": waivers,
        "fixes": fix_list,
        "as_of": now,
    }
    return Report("system", title, data, rows=rows, columns=COLUMNS, lang=lang, tz=tz, generated_at=now)
