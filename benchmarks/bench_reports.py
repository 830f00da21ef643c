"""Reports benchmark: the managers' levels report for 1,000 systems, 5,000 hosts and 200,000 check results.

The database is generated into a temporary SQLite file with bulk inserts (4 completed runs x 5,000 hosts x
10 checks). The report is then built and rendered to HTML in a fresh child process, so its wall time and
peak RSS (getrusage) measure the report alone. Targets (issue 6): HTML in <= 3 s, peak memory <= 300 MB.

Environment: SECOPS_BENCH_SYSTEMS (1000), SECOPS_BENCH_HOSTS (5000), SECOPS_BENCH_RESULTS (200000).
"""

from __future__ import annotations

import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

TARGET_SECONDS, TARGET_MB = 3.0, 300
RUNS = 4


def generate(path: Path, systems: int, hosts: int, results: int) -> None:
    """Fill a fresh SQLite database (schema by our migrations) with bulk inserts."""
    from secops import db
    from secops.catalog.loader import load_catalog
    from secops.models import Agency, Host, System
    from secops.models.compliance import CheckResult, CheckRun

    rng = random.Random(6)
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    catalog = load_catalog()
    linux = sorted(cid for cid, c in catalog.checks.items() if c.platform == "linux")
    per_host = max(1, results // (hosts * RUNS))
    checks = linux[:per_host]
    reqs = {cid: list(catalog.checks[cid].requirements) for cid in checks}
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(insert(Agency), [{"id": i, "code": f"ag{i}", "name": f"Sở số {i}"} for i in range(1, 51)])
        conn.execute(
            insert(System),
            [
                {
                    "id": i,
                    "code": f"sys-{i:04d}",
                    "name": f"Hệ thống thông tin số {i}",
                    "owner_id": 1 + i % 50,
                    "operator_id": 1 + (i * 7) % 50,
                    "regime": "decree85",
                    "proposed_level": 1 + i % 5,
                    "approved_level": (1 + i % 5) if i % 3 else None,
                    "decision_ref": f"{i}/QĐ-UBND" if i % 3 else None,
                    "information": [],
                    "proposed_reasons": [],
                    "proposed_missing": [],
                    "dossier": {"overview": "x"},
                }
                for i in range(1, systems + 1)
            ],
        )
        conn.execute(
            insert(Host),
            [
                {
                    "id": h,
                    "name": f"host-{h:05d}",
                    "address": f"127.{h // 65536}.{(h // 256) % 256}.{h % 256}",
                    "system_id": 1 + h % systems,
                    "os": "linux",
                    "transport": "ssh",
                    "sudo": False,
                    "services": [],
                }
                for h in range(1, hosts + 1)
            ],
        )
        for run in range(1, RUNS + 1):
            started = now - timedelta(days=120 * (RUNS - run) + 1)
            conn.execute(
                insert(CheckRun),
                [
                    {
                        "id": run,
                        "kind": "collect",
                        "status": "completed",
                        "actor": "bench",
                        "started_at": started,
                        "finished_at": started + timedelta(hours=1),
                        "heartbeat_at": started,
                        "selection": {},
                        "hosts_total": hosts,
                        "hosts_done": hosts,
                    }
                ],
            )
            rows = []
            for h in range(1, hosts + 1):
                for cid in checks:
                    status = "fail" if rng.random() < 0.25 - 0.04 * run else "pass"
                    rows.append(
                        {
                            "run_id": run,
                            "host_id": h,
                            "host_name": f"host-{h:05d}",
                            "system_id": 1 + h % systems,
                            "check_id": cid,
                            "status": status,
                            "original_status": status,
                            "severity": "medium",
                            "requirements": reqs[cid],
                            "expected": None,
                            "observed": None,
                            "detail": "",
                        }
                    )
            conn.execute(insert(CheckResult), rows)
    engine.dispose()


def measure(path: Path, out: Path) -> None:
    """Child process: build and render the report; print wall time and peak RSS as JSON."""
    from secops import db
    from secops.catalog.loader import load_catalog
    from secops.reporting.levels import build_levels
    from secops.reporting.render import write

    catalog = load_catalog()
    engine = db.make_engine(f"sqlite:///{path}")
    started = time.perf_counter()
    with db.session_scope(engine) as session:
        report = build_levels(session, catalog, "vi")
    built = time.perf_counter()
    write(report, "html", out)
    done = time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "build_s": built - started,
                "total_s": done - started,
                "peak_mb": peak_mb,
                "html_bytes": out.stat().st_size,
                "systems": len(report.data["systems"]),
            }
        )
    )


def main() -> None:
    systems = int(os.environ.get("SECOPS_BENCH_SYSTEMS", "1000"))
    hosts = int(os.environ.get("SECOPS_BENCH_HOSTS", "5000"))
    results = int(os.environ.get("SECOPS_BENCH_RESULTS", "200000"))
    with tempfile.TemporaryDirectory(prefix="secops-bench-reports-") as tmp:
        path = Path(tmp) / "bench.db"
        started = time.perf_counter()
        generate(path, systems, hosts, results)
        print(
            f"generated {systems} systems, {hosts} hosts, {results} check results in "
            f"{time.perf_counter() - started:.1f}s"
        )
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks.bench_reports", "--measure", str(path), str(Path(tmp) / "levels.html")],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
            cwd=Path(__file__).resolve().parent.parent,
        )
        if proc.returncode != 0:
            raise SystemExit(f"report measurement failed:\n{proc.stderr}")
        figures = json.loads(proc.stdout.strip().splitlines()[-1])
    print(
        f"levels report, HTML: {figures['total_s']:.2f}s (build {figures['build_s']:.2f}s), "
        f"peak RSS {figures['peak_mb']:.0f} MB, {figures['html_bytes'] / 1e6:.1f} MB of HTML"
    )
    print(
        f"targets: <= {TARGET_SECONDS:.0f}s ({figures['total_s'] / TARGET_SECONDS:.2f}x of budget), "
        f"<= {TARGET_MB} MB ({figures['peak_mb'] / TARGET_MB:.2f}x of budget)"
    )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--measure":
        measure(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        main()
