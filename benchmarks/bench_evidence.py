"""Evidence intake: stream a 1 GB file into the content-addressed store with `secops incident evidence add`
(a real CLI process) and compare wall time, throughput and peak RSS with plain `sha256sum` of the same file.

Size: SECOPS_BENCH_EVIDENCE_MB (default 1024). Constant memory means the peak RSS of `evidence add` stays
near that of a no-op secops command whatever the file size.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_rss_mb: float
    stdout: str


def _hwm_kib(pid: int) -> int | None:
    """The process's own peak RSS (VmHWM belongs to the memory image after exec, not the forked parent)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def timed(argv: list[str], env: dict[str, str] | None = None) -> Run:
    """Run ``argv``; return its wall time and peak RSS, sampled from /proc every 10 ms while it runs."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env)
        peak = 0
        while proc.poll() is None:
            peak = max(peak, _hwm_kib(proc.pid) or 0)
            time.sleep(0.01)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise RuntimeError(f"{argv[:4]} failed ({proc.returncode}): {err.read().decode().strip()}")
        return Run(seconds, peak / 1024, out.read().decode())


def make_file(path: Path, size_mb: int) -> None:
    """Incompressible content (a random 1 MiB block repeated), written in chunks."""
    block = os.urandom(1 << 20)
    with path.open("wb") as fh:
        for _ in range(size_mb):
            fh.write(block)


def setup_incident(db_url: str) -> str:
    from secops import db
    from secops.incidents import lifecycle
    from secops.models import Agency, System
    from secops.timeutil import utcnow

    engine = db.make_engine(db_url)
    db.upgrade(engine)
    with db.session_scope(engine) as s:
        agency = Agency(code="bench", name="Bench agency")
        s.add(agency)
        s.flush()
        assert agency.id is not None
        s.add(System(code="bench-sys", name="Bench system", owner_id=agency.id, approved_level=3))
    with db.session_scope(engine) as s:
        inc = lifecycle.open_incident(
            s,
            "bench",
            title="Bench",
            systems=["bench-sys"],
            category="malware",
            detected_at=utcnow() - timedelta(hours=1),
            detected_by="log",
        )
        code = inc.code
    engine.dispose()
    return code


def measure(size_mb: int, workdir: Path) -> dict[str, float | str]:
    """Ingest a ``size_mb`` file through the CLI and hash it with sha256sum; return the figures."""
    home = workdir / "home"
    home.mkdir()
    db_url = f"sqlite:///{home / 'secops.db'}"
    code = setup_incident(db_url)
    data = workdir / "disk.img"
    make_file(data, size_mb)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    base = [
        sys.executable,
        "-m",
        "secops",
        "--db",
        db_url,
        "--home",
        str(home),
        "--lang",
        "en",
        "--actor",
        "bench",
    ]
    idle = timed([*base, "incident", "list", "--format", "json"], env)
    add = timed(
        [
            *base,
            "incident",
            "evidence",
            "add",
            code,
            str(data),
            "--description",
            "disk image",
            "--max-size",
            f"{size_mb + 1}M",
        ],
        env,
    )
    ref = timed(["sha256sum", str(data)])
    digest = ref.stdout.split()[0]
    if digest not in add.stdout:
        raise RuntimeError(f"digest mismatch: sha256sum {digest}, secops said {add.stdout.strip()}")
    stored = home / "store" / "sha256" / digest[:2] / digest
    return {
        "size_mb": float(size_mb),
        "sha256": digest,
        "stored_bytes": float(stored.stat().st_size),
        "secops_seconds": add.seconds,
        "secops_mb_s": size_mb / add.seconds,
        "secops_peak_rss_mb": add.peak_rss_mb,
        "idle_peak_rss_mb": idle.peak_rss_mb,
        "sha256sum_seconds": ref.seconds,
        "sha256sum_mb_s": size_mb / ref.seconds,
        "sha256sum_peak_rss_mb": ref.peak_rss_mb,
    }


def main() -> None:
    size_mb = int(os.environ.get("SECOPS_BENCH_EVIDENCE_MB", "1024"))
    with tempfile.TemporaryDirectory(prefix="secops-bench-evidence-") as tmp:
        r = measure(size_mb, Path(tmp))
    print(
        f"evidence add of {size_mb} MiB: {r['secops_seconds']:.2f} s, {r['secops_mb_s']:.0f} MiB/s, "
        f"peak RSS {r['secops_peak_rss_mb']:.0f} MiB (idle secops command: {r['idle_peak_rss_mb']:.0f} MiB)"
    )
    print(
        f"sha256sum of the same file: {r['sha256sum_seconds']:.2f} s, {r['sha256sum_mb_s']:.0f} MiB/s, "
        f"peak RSS {r['sha256sum_peak_rss_mb']:.0f} MiB"
    )
    ratio = float(r["secops_seconds"]) / float(r["sha256sum_seconds"])
    print(f"ratio secops/sha256sum wall time: {ratio:.2f}x (secops also copies the file and records custody)")


if __name__ == "__main__":
    main()
