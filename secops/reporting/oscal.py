"""OSCAL assessment-results (NIST OSCAL 1.0.x JSON) for one check run.

One observation and one finding per (requirement, host): the observation lists the check results that
bear on the requirement on that host; the finding states satisfied / not-satisfied. Every uuid is a uuid5
of the run, requirement and host, so exporting the same run twice gives the same document ids.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlmodel import Session

from secops import __version__
from secops.compliance.runs import get_run, run_results
from secops.i18n import pick
from secops.timeutil import utcnow

OSCAL_VERSION = "1.0.4"
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:secops:oscal")
PROP_NS = "urn:secops:oscal"
PASSING = {"pass", "waived", "not_applicable"}


def stable_uuid(*parts: object) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(str(p) for p in parts)))


def _ts(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z") if value.tzinfo else value.isoformat() + "Z"


def _prop(name: str, value: object) -> dict[str, str]:
    return {"name": name, "ns": PROP_NS, "value": str(value)}


def assessment_results(session: Session, catalog: Any, run_id: int, lang: str = "en") -> dict[str, Any]:
    """The OSCAL document (a dict ready for ``json.dumps``) for check run ``run_id``."""
    run = get_run(session, run_id)
    results = run_results(session, run_id)
    start = run.started_at
    end = run.finished_at or start
    hosts = sorted({r.host_name for r in results})
    host_uuid = {h: stable_uuid("run", run_id, "host", h) for h in hosts}
    grouped: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for r in results:
        for req in r.requirements or ["(none)"]:
            grouped[(req, r.host_name)].append(r)
    observations, findings, controls = [], [], set()
    for (req_id, host), rows in sorted(grouped.items()):
        req = catalog.requirements.get(req_id)
        title = pick(req.title.model_dump(), lang) if req is not None else req_id
        obs_id = stable_uuid("run", run_id, "requirement", req_id, "host", host, "observation")
        lines = [f"{r.check_id}: {r.status}" + (f" ({r.detail})" if r.detail else "") for r in rows]
        observations.append(
            {
                "uuid": obs_id,
                "title": f"{req_id} on {host}",
                "description": "; ".join(lines),
                "props": [_prop("check-id", r.check_id) for r in rows],
                "methods": ["TEST"],
                "types": ["control-objective"],
                "subjects": [{"subject-uuid": host_uuid[host], "type": "inventory-item", "title": host}],
                "collected": _ts(end),
            }
        )
        statuses = {r.status for r in rows}
        satisfied = "fail" not in statuses and statuses <= PASSING and bool(statuses - {"not_applicable"})
        status: dict[str, Any] = {"state": "satisfied" if satisfied else "not-satisfied"}
        if not satisfied and "fail" not in statuses:
            status["reason"] = "not-evaluated"
        if req is not None:
            controls.add(req_id)
        findings.append(
            {
                "uuid": stable_uuid("run", run_id, "requirement", req_id, "host", host, "finding"),
                "title": f"{req_id}: {title}",
                "description": f"{title} — {host}: " + ", ".join(sorted(statuses)),
                "props": [_prop("host", host)],
                "target": {"type": "objective-id", "target-id": req_id, "status": status},
                "related-observations": [{"observation-uuid": obs_id}],
            }
        )
    ap_uuid = stable_uuid("run", run_id, "assessment-plan")
    result: dict[str, Any] = {
        "uuid": stable_uuid("run", run_id, "result"),
        "title": f"secops check run {run_id}",
        "description": f"Automated configuration checks, run {run_id} ({run.kind}, {run.status}) by {run.actor}.",
        "start": _ts(start),
        "end": _ts(end),
        "reviewed-controls": {
            "control-selections": [
                {"include-controls": [{"control-id": c} for c in sorted(controls)]} if controls else {"include-all": {}}
            ]
        },
    }
    if hosts:
        result["local-definitions"] = {
            "inventory-items": [
                {"uuid": host_uuid[h], "description": h, "props": [_prop("host-name", h)]} for h in hosts
            ]
        }
    if observations:
        result["observations"] = observations
        result["findings"] = findings
    return {
        "assessment-results": {
            "uuid": stable_uuid("run", run_id, "assessment-results"),
            "metadata": {
                "title": f"Assessment results of secops check run {run_id}",
                "last-modified": _ts(utcnow()),
                "version": __version__,
                "oscal-version": OSCAL_VERSION,
            },
            "import-ap": {"href": f"#{ap_uuid}"},
            "results": [result],
            "back-matter": {
                "resources": [
                    {
                        "uuid": ap_uuid,
                        "title": "Assessment plan stub: the secops requirement catalog and checks of this run",
                        "description": f"Regime {getattr(catalog, 'regime', '')}; {len(controls)} requirements.",
                    }
                ]
            },
        }
    }
