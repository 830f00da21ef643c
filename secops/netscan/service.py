"""Scan and import, end to end: guard, run, keep the raw XML in the content store, ingest, audit.

A scan is split in three so no database transaction stays open while nmap runs (SQLite would hold its
write lock for the whole scan): ``prepare_scan`` (read-only), ``runner.run`` (no database), ``store_scan``.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select

from secops import audit
from secops.inventory.queries import get_scope
from secops.models.netscan import NetworkScan, ObservedHost
from secops.models.scope import Scope
from secops.netscan.ingest import IngestResult, ingest
from secops.netscan.isolated import IsolatedReader
from secops.netscan.profiles import NmapArguments, Profile, build_arguments, get_profile
from secops.netscan.runner import RawScan
from secops.netscan.scope import Resolver, ScanPlan, plan_scan, resolve
from secops.store import ContentStore
from secops.timeutil import utcnow

MAX_IMPORT_BYTES = 4 * 1024 * 1024 * 1024


@dataclass(frozen=True)
class PreparedScan:
    plan: ScanPlan
    profile: Profile
    arguments: NmapArguments


def raw_sockets_allowed() -> bool:
    """Whether nmap can send raw packets from here: root *with* CAP_NET_RAW. A container may run as root
    without it, and nmap, seeing uid 0, would then try a SYN scan and fail; so we open a raw socket (and
    send nothing) to find out."""
    if os.geteuid() != 0:
        return False
    try:
        socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP).close()
    except OSError:
        return False
    return True


def prepare_scan(
    session: Session,
    targets: list[str],
    profile_name: str,
    *,
    resolve_names: bool = False,
    privileged: bool | None = None,
    resolver: Resolver = resolve,
) -> PreparedScan:
    """Check targets against scopes and build nmap's arguments; raises before anything runs."""
    profile = get_profile(profile_name)
    plan = plan_scan(session, targets, resolver)
    arguments = build_arguments(
        profile,
        privileged=raw_sockets_allowed() if privileged is None else privileged,
        resolve_names=resolve_names,
        ipv6=plan.ipv6,
    )
    return PreparedScan(plan, profile, arguments)


def store_scan(
    session: Session, store: ContentStore, prepared: PreparedScan, raw: RawScan, *, actor: str
) -> IngestResult:
    """Keep nmap's XML (SHA-256 recorded) and its observations, in the caller's transaction."""
    stored = store.put_bytes(raw.xml)
    scope = session.get(Scope, prepared.plan.scope.id)
    scan = NetworkScan(
        profile=prepared.profile.name,
        source="scan",
        targets=prepared.plan.targets,
        raw_sha256=stored.sha256,
        raw_size=stored.size,
        actor=actor,
    )
    with IsolatedReader(stored.path, "nmap output", MAX_IMPORT_BYTES) as reader:
        result = ingest(session, reader, scan=scan, scope=scope)
    result.parser_peak_kib = reader.peak_kib
    _audit(session, actor, "net.scan", result)
    return result


def unreached(session: Session, prepared: PreparedScan, scan: NetworkScan) -> list[str]:
    """Single addresses the operator targeted that the scan did not see up (blocks may hold dead hosts)."""
    singles = [t for t in prepared.plan.nmap_targets if "/" not in t]
    if not singles:
        return []
    up = set(
        session.exec(
            select(ObservedHost.address).where(ObservedHost.scan_id == scan.id, ObservedHost.state == "up")
        ).all()
    )
    return [address for address in singles if address not in up]


def import_file(
    session: Session, store: ContentStore, path: Path, *, actor: str, scope_name: str | None = None
) -> IngestResult:
    """Ingest an nmap XML file made elsewhere; any error leaves the database as it was (caller rolls back)."""
    scope = get_scope(session, scope_name) if scope_name is not None else None
    scan = NetworkScan(profile="imported", source="import", filename=path.name, actor=actor, started=utcnow())
    incoming = store.incoming()  # the helper copies what it parses here: stored bytes = parsed bytes
    try:
        with IsolatedReader(path, str(path), MAX_IMPORT_BYTES, copy_to=incoming) as reader:
            result = ingest(session, reader, scan=scan, scope=scope)
        assert reader.sha256 is not None
        stored = store.adopt(incoming, reader.sha256)
        result.parser_peak_kib = reader.peak_kib
    finally:
        incoming.unlink(missing_ok=True)
    result.scan.raw_sha256, result.scan.raw_size = stored.sha256, stored.size
    session.add(result.scan)
    _audit(session, actor, "net.import", result)
    return result


def _audit(session: Session, actor: str, action: str, result: IngestResult) -> None:
    scan = result.scan
    audit.record(
        session,
        actor,
        action,
        "network_scan",
        str(scan.id),
        after={
            "profile": scan.profile,
            "targets": scan.targets,
            "scope_id": scan.scope_id,
            "hosts": result.hosts,
            "hosts_up": scan.hosts_up,
            "ports": result.ports,
            "raw_sha256": scan.raw_sha256,
            "filename": scan.filename,
        },
    )
