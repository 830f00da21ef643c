"""Drift between two runs, per (host, check): new failures, fixed, regressed, new errors, waivers expired.

Every failure in run B that was not failing in run A lands in exactly one bucket: ``regressed`` when it
passed in A, ``waivers_expired`` when A had it waived and that waiver had lapsed by B, else
``new_failures`` (new host or check, or previously error/skipped/not applicable).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from secops.compliance.runs import get_run, run_results
from secops.models.compliance import CheckResult, Waiver

CATEGORIES = ("new_failures", "fixed", "regressed", "new_errors", "waivers_expired")


def _entry(a: CheckResult | None, b: CheckResult | None) -> dict[str, Any]:
    ref = b or a
    assert ref is not None
    return {
        "host": ref.host_name,
        "check": ref.check_id,
        "severity": ref.severity,
        "before": a.status if a else None,
        "after": b.status if b else None,
        "detail": b.detail if b else "",
    }


def diff_runs(session: Session, run_a: int, run_b: int) -> dict[str, Any]:
    """Compare the stored statuses of two runs (as they were recorded, waivers included)."""
    a_run, b_run = get_run(session, run_a), get_run(session, run_b)
    before = {(r.host_name, r.check_id): r for r in run_results(session, run_a)}
    after = {(r.host_name, r.check_id): r for r in run_results(session, run_b)}
    waivers = {w.id: w for w in session.exec(select(Waiver))}
    out: dict[str, list[dict[str, Any]]] = {name: [] for name in CATEGORIES}
    for key in sorted(set(before) | set(after)):
        a, b = before.get(key), after.get(key)
        a_status = a.status if a else None
        b_status = b.status if b else None
        if b_status == "fail" and a_status != "fail":
            if a_status == "pass":
                out["regressed"].append(_entry(a, b))
            elif (
                a is not None and a_status == "waived" and _lapsed(waivers.get(a.waiver_id), b_run.started_at)
            ):
                item = _entry(a, b)
                item["waiver_id"] = a.waiver_id
                out["waivers_expired"].append(item)
            else:
                out["new_failures"].append(_entry(a, b))
        elif a_status == "fail" and b_status == "pass":
            out["fixed"].append(_entry(a, b))
        if b_status == "error" and a_status != "error":
            out["new_errors"].append(_entry(a, b))
    counts = {name: len(items) for name, items in out.items()}
    return {"run_a": a_run.id, "run_b": b_run.id, "counts": counts, **out}


def _lapsed(waiver: Waiver | None, at: Any) -> bool:
    """A waiver that is gone, or expired by the time of the later run."""
    return waiver is None or waiver.expires_at <= at
