"""Check runs: collect facts from hosts, evaluate them, store bundle and results per host, one commit each.

``execute_run`` talks to hosts (through ``secops.collect``); ``rescore`` re-evaluates the stored bundles of
an earlier run against the current catalog, waivers and levels without touching any host. Both write a new
CheckRun, so history is never rewritten.
"""

from __future__ import annotations

import dataclasses
import os
import socket
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from secops import audit, db
from secops.collect.bundle import CollectResult, RawFact
from secops.compliance.evaluation import (
    HostContext,
    canonical_hash,
    evaluate_host,
    fact_specs,
    host_checks,
    observed_to_json,
    raw_from_json,
)
from secops.compliance.waivers import WaiverIndex
from secops.errors import InputError, InvalidStateError, NotFoundError
from secops.i18n import _
from secops.models import Host, System
from secops.models.compliance import CheckResult, CheckRun, FactBundle
from secops.netscan.facts import network_facts
from secops.timeutil import utcnow


def select_hosts(
    session: Session, systems: Sequence[str], hosts: Sequence[str], all_hosts: bool
) -> list[Host]:
    """The hosts named by ``--system``/``--host``/``--all`` (unknown names are an error), by name."""
    if not (systems or hosts or all_hosts):
        raise InputError(_("choose what to check: --system CODE, --host NAME or --all"))
    chosen: dict[str, Host] = {}
    if all_hosts:
        chosen.update({h.name: h for h in session.exec(select(Host))})
    for code in systems:
        system = session.exec(select(System).where(System.code == code)).first()
        if system is None:
            raise NotFoundError(_("no system {code!r}").format(code=code))
        members = list(session.exec(select(Host).where(Host.system_id == system.id)))
        if not members:
            raise InputError(_("system {code} has no hosts in the inventory").format(code=code))
        chosen.update({h.name: h for h in members})
    for name in hosts:
        host = session.exec(select(Host).where(Host.name == name)).first()
        if host is None:
            raise NotFoundError(_("no host {name!r}").format(name=name))
        chosen[host.name] = host
    if not chosen:
        raise InputError(_("the inventory has no hosts to check"))
    return [chosen[name] for name in sorted(chosen)]


def host_context(session: Session, host: Host) -> HostContext:
    """Level comes from the host's system: approved, else proposed."""
    system = session.get(System, host.system_id) if host.system_id is not None else None
    return HostContext(
        host_id=host.id,
        host_name=host.name,
        system_id=host.system_id,
        level=system.effective_level if system else None,
        zone=host.zone,
        os=host.os,
    )


def start_run(
    engine: Engine,
    actor: str,
    *,
    kind: str,
    selection: dict[str, Any],
    hosts_total: int,
    source_run_id: int | None = None,
) -> int:
    with db.session_scope(engine) as session:
        run = CheckRun(
            kind=kind,
            actor=actor,
            selection=selection,
            hosts_total=hosts_total,
            source_run_id=source_run_id,
            pid=os.getpid(),
            hostname=socket.gethostname(),
        )
        session.add(run)
        session.flush()
        audit.record(session, actor, f"check_run.{kind}", "check_run", str(run.id), after=audit.snapshot(run))
        assert run.id is not None
        return run.id


def store_host(
    engine: Engine,
    run_id: int,
    catalog: Any,
    ctx: HostContext,
    waivers: WaiverIndex,
    *,
    transport: str,
    raw: Mapping[str, RawFact] | None,
    error: str | None,
    error_kind: str | None = None,
    fingerprint: str | None = None,
    duration: float = 0.0,
    bundle_id: int | None = None,
    observed: dict[str, Any] | None = None,
) -> int:
    """Evaluate one host and commit its bundle (unless re-using ``bundle_id`` with its ``observed``
    network facts) and results together; returns the number of results."""
    with db.session_scope(engine) as session:
        if bundle_id is None:
            host = session.get(Host, ctx.host_id) if ctx.host_id is not None else None
            observed = observed_to_json(network_facts(session, host)) if host is not None else None
        evaluated = evaluate_host(catalog, ctx, raw, error, waivers, observed)
        if bundle_id is None:
            facts = {fid: fact.to_json() for fid, fact in (raw or {}).items()}
            bundle = FactBundle(
                run_id=run_id,
                host_id=ctx.host_id,
                host_name=ctx.host_name,
                transport=transport,
                facts=facts,
                observed=observed,
                sha256=canonical_hash(facts),
                host_key_fingerprint=fingerprint,
                error=error,
                error_kind=error_kind,
                duration_s=round(duration, 3),
            )
            session.add(bundle)
            session.flush()
            bundle_id = bundle.id
        rows = [
            {
                "run_id": run_id,
                "bundle_id": bundle_id,
                "host_id": ctx.host_id,
                "host_name": ctx.host_name,
                "system_id": ctx.system_id,
                "check_id": e.check_id,
                "status": e.status,
                "original_status": e.original_status,
                "severity": e.severity,
                "requirements": e.requirements,
                "expected": e.expected,
                "observed": e.observed,
                "detail": e.detail,
                "waiver_id": e.waiver_id,
            }
            for e in evaluated
        ]
        if rows:  # one executemany: per-row ORM objects cost more than the evaluation itself
            session.execute(insert(CheckResult), rows)
        session.execute(
            update(CheckRun)
            .where(col(CheckRun.id) == run_id)
            .values(hosts_done=col(CheckRun.hosts_done) + 1, heartbeat_at=utcnow())
        )
    return len(rows)


def finish_run(engine: Engine, run_id: int, actor: str, *, status: str | None = None) -> CheckRun:
    """Close a run: ``incomplete`` when any host could not be collected, else ``completed``."""
    with db.session_scope(engine) as session:
        run = session.get(CheckRun, run_id)
        assert run is not None
        before = audit.snapshot(run)
        if status is None:
            failed = session.exec(
                select(FactBundle.id).where(
                    FactBundle.run_id == bundles_run_id(session, run), col(FactBundle.error).is_not(None)
                )
            ).first()
            status = "incomplete" if failed is not None or run.hosts_done < run.hosts_total else "completed"
        run.status = status
        run.finished_at = utcnow()
        session.add(run)
        audit.record(
            session,
            actor,
            "check_run.finish",
            "check_run",
            str(run.id),
            before=before,
            after=audit.snapshot(run),
        )
        return run


def bundles_run_id(session: Session, run: CheckRun) -> int:
    """The run that holds the fact bundles a run was evaluated from (a rescore points at its source)."""
    while run.kind == "rescore" and run.source_run_id is not None:
        source = session.get(CheckRun, run.source_run_id)
        if source is None:
            break
        run = source
    assert run.id is not None
    return run.id


def execute_run(
    engine: Engine,
    actor: str,
    home: Path,
    catalog: Any,
    hosts: Sequence[Host],
    *,
    selection: dict[str, Any],
    transport: str | None = None,
    concurrency: int = 10,
    progress: bool = False,
) -> CheckRun:
    """Collect and evaluate ``hosts``; each finished host is committed at once (a crash loses one host)."""
    from secops.collect import collect_hosts
    from secops.collect.target import Target

    with db.session_scope(engine) as session:
        waivers = WaiverIndex.load(session)
        contexts = {h.name: host_context(session, h) for h in hosts}
    run_id = start_run(engine, actor, kind="collect", selection=selection, hosts_total=len(hosts))
    specs = fact_specs(catalog, [c for h in hosts for c in host_checks(catalog, h.os)])
    targets: list[Target] = []
    for host in hosts:
        if not host_checks(catalog, host.os):  # e.g. a Windows host: nothing to collect, so never contacted
            store_host(
                engine,
                run_id,
                catalog,
                contexts[host.name],
                waivers,
                transport=transport or host.transport,
                raw={},
                error=None,
            )
            continue
        try:
            target = Target.from_host(host, home)
            targets.append(dataclasses.replace(target, transport=transport) if transport else target)
        except InputError as exc:  # a bad inventory entry is that host's error; the others still run
            store_host(
                engine,
                run_id,
                catalog,
                contexts[host.name],
                waivers,
                transport=transport or host.transport,
                raw=None,
                error=str(exc),
                error_kind="other",
            )

    def on_result(result: CollectResult) -> None:
        store_host(
            engine,
            run_id,
            catalog,
            contexts[result.host],
            waivers,
            transport=result.transport,
            raw=result.facts,  # partial facts of a failed host are kept as evidence; its checks are errors
            error=result.error,
            error_kind=result.error_kind,
            fingerprint=result.host_key_fingerprint,
            duration=max(0.0, result.finished - result.started),
        )

    try:
        if targets:  # each host is stored by on_result as it finishes; none is held until the end
            collect_hosts(
                targets, specs, concurrency=concurrency, on_result=on_result, progress=progress, keep=False
            )
    except KeyboardInterrupt:
        finish_run(engine, run_id, actor, status="interrupted")
        raise
    return finish_run(engine, run_id, actor)


def rescore(engine: Engine, actor: str, catalog: Any, source_run_id: int) -> CheckRun:
    """Re-evaluate the stored bundles of ``source_run_id`` into a new run linked to it."""
    with db.session_scope(engine) as session:
        source = session.get(CheckRun, source_run_id)
        if source is None:
            raise NotFoundError(_("no check run {run}").format(run=source_run_id))
        if source.status == "running":
            raise InvalidStateError(_("run {run} is still running").format(run=source_run_id))
        bundles = list(
            session.exec(
                select(FactBundle)
                .where(FactBundle.run_id == bundles_run_id(session, source))
                .order_by(col(FactBundle.host_name))
            )
        )
        contexts = []
        for bundle in bundles:
            host = session.get(Host, bundle.host_id) if bundle.host_id is not None else None
            contexts.append(
                host_context(session, host) if host else HostContext(None, bundle.host_name, None, None, None)
            )
        waivers = WaiverIndex.load(session)
    run_id = start_run(
        engine,
        actor,
        kind="rescore",
        selection={"source_run": source_run_id},
        hosts_total=len(bundles),
        source_run_id=source_run_id,
    )
    for bundle, ctx in zip(bundles, contexts, strict=True):
        store_host(
            engine,
            run_id,
            catalog,
            ctx,
            waivers,
            transport=bundle.transport,
            raw=None if bundle.error else raw_from_json(bundle.facts),
            error=bundle.error,
            error_kind=bundle.error_kind,
            bundle_id=bundle.id,
            observed=bundle.observed,
        )
    return finish_run(engine, run_id, actor)


def run_results(session: Session, run_id: int) -> list[CheckResult]:
    return list(
        session.exec(
            select(CheckResult)
            .where(CheckResult.run_id == run_id)
            .order_by(col(CheckResult.host_name), col(CheckResult.check_id))
        )
    )


def get_run(session: Session, run_id: int) -> CheckRun:
    run = session.get(CheckRun, run_id)
    if run is None:
        raise NotFoundError(_("no check run {run}").format(run=run_id))
    return run


def recent_runs(session: Session, limit: int = 20) -> list[CheckRun]:
    return list(session.exec(select(CheckRun).order_by(col(CheckRun.id).desc()).limit(limit)))
