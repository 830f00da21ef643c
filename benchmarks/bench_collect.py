"""Collection benchmark: a fleet of N private sshd servers on loopback, ~1.3 MB of facts per host.

Compares the full collection (``secops.collect.collect_hosts``) with
  (a) the floor: plain paramiko connect + one ``true`` per host at the same concurrency, and
  (b) Ansible (ansible-core, installed into a temp venv here), one shell task running the same script with
      forks = our concurrency, once with defaults and once with pipelining.
Each contender runs in its own process tree (a child subreaper, so Ansible's ControlPersist masters are
counted); wall time and the peak summed RSS of that tree are reported. Needs root (test user, sshd).

Environment: SECOPS_BENCH_HOSTS (default "50,200"), SECOPS_BENCH_CONCURRENCY (10),
SECOPS_BENCH_ANSIBLE=0 to skip Ansible, SECOPS_BENCH_ANSIBLE_VENV (default /tmp/secops-bench-ansible).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from secops.collect import FactSpec, collect_hosts, collect_one
from secops.collect.script import build_script
from secops.collect.target import Target
from tests.integration import sshd

TARGET_BYTES = 1_300_000
PAGE = os.sysconf("SC_PAGE_SIZE")


def fact_specs(data_dir: Path) -> list[FactSpec]:
    """As many facts as the shipped catalog (25), each one cheap read, one of them bulky: ~1.3 MB a host.

    The catalog's own commands cost ~0.25 s of CPU a host here (apt's update check alone ~0.12 s), which on
    2 cores would measure the host's work, not collection; ``SECOPS_BENCH_FACTS=catalog`` runs them anyway.
    """
    if os.environ.get("SECOPS_BENCH_FACTS") == "catalog":
        from secops.catalog.loader import load_catalog

        return [*load_catalog().fact_specs(), FactSpec("bulk", f"cat {data_dir / 'bulk.txt'}")]
    files = [
        "/etc/os-release",
        "/etc/passwd",
        "/etc/group",
        "/etc/login.defs",
        "/etc/ssh/sshd_config",
        "/etc/hosts",
        "/etc/fstab",
        "/etc/resolv.conf",
        "/proc/cpuinfo",
        "/proc/meminfo",
        "/proc/mounts",
        "/proc/net/tcp",
        "/proc/sys/kernel/randomize_va_space",
        "/etc/shells",
        "/proc/version",
        "/proc/sys/net/ipv4/ip_forward",
        "/proc/sys/net/ipv4/tcp_syncookies",
        "/etc/nsswitch.conf",
        "/proc/modules",
        "/etc/debian_version",
        "/proc/sys/kernel/dmesg_restrict",
    ]
    specs = [FactSpec(f"file_{i:02d}", f"cat {path} 2>/dev/null; exit 0") for i, path in enumerate(files)]
    specs += [
        FactSpec("id", "id"),
        FactSpec("umask", "umask"),
        FactSpec("shadow", "cat /etc/shadow", root=True),
        FactSpec("bulk", f"cat {data_dir / 'bulk.txt'}"),
    ]
    return specs


def prepare_bulk(data_dir: Path) -> list[FactSpec]:
    """Size the bulk fact so the whole bundle is ~1.3 MB on this machine."""
    (data_dir / "bulk.txt").write_text("")
    specs = fact_specs(data_dir)
    local = collect_one(Target(name="probe", address="127.0.0.1", transport="local"), specs)
    base = sum(len(f.stdout) + len(f.stderr) for f in local.facts.values())
    line = "drwxr-xr-x 2 root root 4096 Nov 27 03:00 /usr/lib/secops/benchmark/padding-entry\n"
    (data_dir / "bulk.txt").write_text(line * max(0, (TARGET_BYTES - base) // len(line)))
    data_dir.chmod(0o755)
    (data_dir / "bulk.txt").chmod(0o644)
    return specs


# ---------------------------------------------------------------- worker side (a fresh process per contender)


def worker(mode: str, config_path: str) -> None:
    cfg = json.loads(Path(config_path).read_text())
    targets = [
        Target(
            name=f"h{i:03d}",
            address="127.0.0.1",
            user=cfg["user"],
            port=port,
            key=Path(cfg["key"]),
            known_hosts=Path(cfg["known_hosts"]),
        )
        for i, port in enumerate(cfg["ports"])
    ]
    started = time.perf_counter()
    if mode in ("ours", "ours_bulk"):
        specs = [FactSpec(**s) for s in cfg["specs"] if mode == "ours" or s["id"] == "bulk"]
        results = collect_hosts(targets, specs, concurrency=cfg["concurrency"])
        failed = [f"{r.host}: {r.error}" for r in results if r.error]
        volume = sum(len(f.stdout) + len(f.stderr) for r in results for f in r.facts.values())
    else:
        failed, volume = floor(targets, cfg["concurrency"]), 0
    elapsed = time.perf_counter() - started
    print(json.dumps({"seconds": elapsed, "failed": failed[:5], "n_failed": len(failed), "bytes": volume}))


def floor(targets: list[Target], concurrency: int) -> list[str]:
    """Plain paramiko: connect (TCP_NODELAY, key auth, host key checked) and run ``true``."""
    import socket
    from concurrent.futures import ThreadPoolExecutor

    import paramiko

    def one(t: Target) -> str | None:
        sock = socket.create_connection((t.address, t.port), timeout=10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client = paramiko.SSHClient()
        client.load_host_keys(str(t.known_hosts))
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        try:
            client.connect(
                t.address,
                t.port,
                username=t.user,
                key_filename=str(t.key),
                sock=sock,
                look_for_keys=False,
                allow_agent=False,
                timeout=10,
            )
            _, out, _ = client.exec_command("true")
            status = out.channel.recv_exit_status()
            return None if status == 0 else f"{t.name}: exit {status}"
        except Exception as exc:
            return f"{t.name}: {exc}"
        finally:
            client.close()

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return [e for e in pool.map(one, targets) if e]


# ---------------------------------------------------------------- measuring side


def _tree_rss(root: int) -> int:
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
            rss[int(entry)] = int(Path(f"/proc/{entry}/statm").read_text().split()[1]) * PAGE
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


SUBREAPER = (  # run argv as a child of a subreaper, so daemonizing descendants stay in the measured tree
    "import ctypes, subprocess, sys\n"
    "ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)\n"
    "sys.exit(subprocess.call(sys.argv[1:]))\n"
)


def measure(
    argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None, ok: tuple[int, ...] = (0,)
) -> dict[str, Any]:
    """Wall time and peak tree RSS of ``argv`` (sampled every 50 ms); its stdout is returned as text."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", SUBREAPER, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=cwd,
        text=True,
    )
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            stop.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate(timeout=1800)
    elapsed = time.perf_counter() - started
    stop.set()
    sampler.join()
    if proc.returncode not in ok:
        raise RuntimeError(f"{argv[:3]} failed ({proc.returncode}): {err[-2000:]}")
    return {"wall": elapsed, "peak_mb": peak / 1e6, "stdout": out}


def ansible_venv() -> Path | None:
    venv = Path(
        os.environ.get("SECOPS_BENCH_ANSIBLE_VENV", Path(tempfile.gettempdir()) / "secops-bench-ansible")
    )
    if not (venv / "bin" / "ansible-playbook").exists():
        print(f"installing ansible-core into {venv} …", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "ansible-core"], check=True, timeout=900)
    return venv


def ansible_run(
    venv: Path, work: Path, cfg: dict[str, Any], script: Path, pipelining: bool
) -> dict[str, Any]:
    inventory = {
        "all": {
            "hosts": {f"h{i:03d}": {"ansible_port": port} for i, port in enumerate(cfg["ports"])},
            "vars": {
                "ansible_host": "127.0.0.1",
                "ansible_user": cfg["user"],
                "ansible_ssh_private_key_file": cfg["key"],
                "ansible_ssh_common_args": f"-o UserKnownHostsFile={cfg['known_hosts']}",
                "ansible_python_interpreter": "/usr/bin/python3",
            },
        }
    }
    (work / "inventory.json").write_text(json.dumps(inventory))
    (work / "play.yml").write_text(
        "- hosts: all\n  gather_facts: false\n  tasks:\n"
        "    - name: collect\n      ansible.builtin.shell:\n        cmd: sh -s\n"
        f"        stdin: \"{{{{ lookup('file', '{script}') }}}}\"\n"
    )
    home = work / f"home-{int(pipelining)}"
    home.mkdir(exist_ok=True)
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(home),
        "ANSIBLE_HOME": str(home / ".ansible"),
        "ANSIBLE_LOCAL_TEMP": str(home / "tmp"),
        "ANSIBLE_HOST_KEY_CHECKING": "True",
        "ANSIBLE_SSH_CONTROL_PATH_DIR": str(home / "cp"),
        "ANSIBLE_PIPELINING": str(pipelining),
        "LANG": "C.UTF-8",
    }
    try:
        result = measure(
            [
                str(venv / "bin" / "ansible-playbook"),
                "-i",
                str(work / "inventory.json"),
                "-f",
                str(cfg["concurrency"]),
                str(work / "play.yml"),
            ],
            env=env,
            cwd=work,
        )
    finally:
        for sock in (home / "cp").glob("*"):  # end the ControlPersist masters this run started
            subprocess.run(
                ["ssh", "-o", f"ControlPath={sock}", "-O", "exit", "x"],
                capture_output=True,
                timeout=10,
                check=False,
            )
    recap = [line for line in result["stdout"].splitlines() if "failed=" in line]
    bad = [line for line in recap if " failed=0 " not in line or " unreachable=0 " not in line]
    if len(recap) != len(cfg["ports"]) or bad:
        raise RuntimeError(f"ansible: {len(recap)} hosts in recap, problems: {bad[:3]}")
    return result


def check_run(work: Path, cfg: dict[str, Any], n: int) -> dict[str, Any] | None:
    """``secops check run --all`` end to end (shipped catalog, SQLite), if the compliance feature is there."""
    try:
        from sqlmodel import Session

        from secops import db
        from secops.models import Host
    except ImportError:
        return None
    url = f"sqlite:///{work / 'secops.db'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    with Session(engine) as session:
        for i, port in enumerate(cfg["ports"]):
            session.add(
                Host(
                    name=f"h{i:03d}",
                    address="127.0.0.1",
                    os="linux",
                    transport="ssh",
                    ssh_user=cfg["user"],
                    ssh_port=port,
                    ssh_key=cfg["key"],
                    known_hosts=cfg["known_hosts"],
                )
            )
        session.commit()
    engine.dispose()
    argv = [
        str(Path(sys.executable).parent / "secops"),
        "--db",
        url,
        "--home",
        str(work),
        "--lang",
        "en",
        "check",
        "run",
        "--all",
        "--concurrency",
        str(cfg["concurrency"]),
        "--format",
        "json",
    ]
    result = measure(argv, cwd=Path(__file__).resolve().parent.parent, ok=(0, 1))
    data = json.loads(result["stdout"])
    if data.get("status") != "completed":
        raise RuntimeError(f"check run: status {data.get('status')}")
    hosts = {r["host"] for r in data.get("results", [])}
    result["note"] = f"{len(data.get('results', []))} results on {len(hosts)} hosts"
    return result


def script_cpu_ms(specs: list[FactSpec], rounds: int = 10) -> float:
    """CPU a host spends running the batched script (measured here through ``sh -s``, without SSH)."""
    import resource

    script = build_script(specs, "SECOPS-benchmark", sudo=False, cap=4 << 20).encode()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    for _ in range(rounds):
        subprocess.run(["/bin/sh", "-s"], input=script, capture_output=True, check=True, timeout=60)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return used / rounds * 1000


def run_fleet(n: int, concurrency: int, user: sshd.TestUser, work: Path, venv: Path | None) -> None:
    data = work / "data"
    data.mkdir(exist_ok=True)
    specs = prepare_bulk(data)
    with ExitStack() as stack:
        servers = [stack.enter_context(sshd.loopback_sshd(work / f"sshd{i:03d}", user)) for i in range(n)]
        known = work / "known_hosts"
        known.write_text("".join(s.known_hosts_line() + "\n" for s in servers))
        cfg = {
            "user": user.name,
            "key": str(user.key),
            "known_hosts": str(known),
            "ports": [s.port for s in servers],
            "concurrency": concurrency,
            "specs": [
                {"id": s.id, "command": s.command, "root": s.root, "timeout": s.timeout} for s in specs
            ],
        }
        config = work / "config.json"
        config.write_text(json.dumps(cfg))
        me = [sys.executable, "-m", "benchmarks.bench_collect", "--worker"]
        rows: dict[str, dict[str, Any]] = {}
        contenders = (
            ("floor (paramiko connect + true)", "floor"),
            ("secops collect, bulk fact only", "ours_bulk"),
            ("secops collect", "ours"),
        )
        for label, mode in contenders:
            res = measure([*me, mode, str(config)], cwd=Path(__file__).resolve().parent.parent)
            info = json.loads(res["stdout"].strip().splitlines()[-1])
            if info["n_failed"]:
                raise RuntimeError(f"{label}: {info['n_failed']} hosts failed: {info['failed']}")
            rows[label] = {**res, **info}
        per_host = rows["secops collect"]["bytes"] / n / 1e6
        if venv is not None:
            script = work / "collect.sh"
            script.write_text(build_script(specs, "SECOPS-benchmark", sudo=False, cap=4 << 20))
            rows["ansible (defaults)"] = ansible_run(venv, work, cfg, script, pipelining=False)
            rows["ansible (pipelining)"] = ansible_run(venv, work, cfg, script, pipelining=True)
        if os.environ.get("SECOPS_BENCH_CHECK_RUN", "1") != "0":
            end_to_end = check_run(work, cfg, n)
            if end_to_end is not None:
                rows["secops check run (catalog, e2e)"] = end_to_end
    ours = rows["secops collect"]["wall"]
    print(f"\nN = {n} hosts, concurrency/forks = {concurrency}, {per_host:.2f} MB of facts per host")
    print("wall = the whole process (interpreter start-up included); work = inside it, start-up excluded")
    print(f"{'contender':34} {'wall s':>8} {'work s':>8} {'hosts/s':>8} {'peak MB':>8} {'wall/secops':>12}")
    for label, row in rows.items():
        work_s = row.get("seconds")
        shown = f"{work_s:8.2f}" if work_s is not None else f"{'-':>8}"
        print(
            f"{label:34} {row['wall']:8.2f} {shown} {n / (work_s or row['wall']):8.1f} {row['peak_mb']:8.0f} "
            f"{row['wall'] / ours:11.2f}x"
        )
    cpu_all, cpu_bulk = script_cpu_ms(specs), script_cpu_ms([s for s in specs if s.id == "bulk"])
    print(
        f"the script's own CPU per host (sh -s here, no SSH): {cpu_all:.1f} ms with {len(specs)} facts, "
        f"{cpu_bulk:.1f} ms with the bulk fact alone"
    )
    for label, row in rows.items():
        if row.get("note"):
            print(f"  {label}: {row['note']}")
    floor_row = rows["floor (paramiko connect + true)"]
    print(
        f"secops / floor = {rows['secops collect']['seconds'] / floor_row['seconds']:.2f} on work time, "
        f"{ours / floor_row['wall']:.2f} on wall time (target <= 1.5 at N=200)"
    )
    for label, target in (("ansible (defaults)", 5), ("ansible (pipelining)", 2)):
        if label in rows:
            print(
                f"{label} / secops = {rows[label]['wall'] / ours:.1f}x faster (target >= {target}x at N=200)"
            )


def main() -> None:
    ok, why = sshd.available()
    if not ok:
        print(f"skipped: {why}")
        return
    sizes = [int(x) for x in os.environ.get("SECOPS_BENCH_HOSTS", "50,200").split(",") if x.strip()]
    concurrency = int(os.environ.get("SECOPS_BENCH_CONCURRENCY", "10"))
    venv = ansible_venv() if os.environ.get("SECOPS_BENCH_ANSIBLE", "1") != "0" else None
    sshd.ensure_privsep_dir()
    work = Path(tempfile.mkdtemp(prefix="secops-bench-collect-"))
    work.chmod(0o755)
    try:
        with sshd.test_user(work) as user:
            for n in sizes:
                fleet = work / f"n{n}"
                fleet.mkdir()
                run_fleet(n, concurrency, user, fleet, venv)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3])
    else:
        main()
