"""`secops net import | list | show | diff | unknown` on real nmap XML, over SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, select

from benchmarks.bench_netscan import write_xml
from secops import db
from secops.models.audit import AuditEvent
from secops.models.netscan import NetworkScan, ObservedHost, ObservedPort
from secops.netscan.queries import host_observations
from tests.fixtures.nmap.helpers import add_rows, add_scope, as_json, fixture, host

SERVICES_HOSTS = [
    {
        "address": "10.253.39.2",
        "state": "up",
        "hostnames": [],
        "ports": [
            {"port": 22, "protocol": "tcp", "state": "open", "service": "ssh", "product": "OpenSSH",
             "version": "9.2p1 Debian 2+deb12u3"},
            {"port": 80, "protocol": "tcp", "state": "open", "service": "http", "product": "Apache httpd",
             "version": "2.4.57"},
            {"port": 443, "protocol": "tcp", "state": "open", "service": "http", "product": "Apache httpd",
             "version": "2.4.57"},
            {"port": 8080, "protocol": "tcp", "state": "closed", "service": "http-proxy", "product": None,
             "version": None},
        ],
    }
]  # fmt: skip


def count(db_url: str, model: type) -> int:
    engine = db.make_engine(db_url)
    with Session(engine) as session:
        value = session.exec(select(func.count()).select_from(model)).one()
    engine.dispose()
    return int(value)


def test_import_contract_json_and_evidence(run) -> None:
    add_scope(run.db_url)
    result = run("net", "import", str(fixture("services.xml")), "--format", "json")
    assert result.exit_code == 0, result.output
    assert as_json(result.stdout) == {
        "scan_id": 1,
        "scope": "testnet",
        "profile": "imported",
        "hosts": SERVICES_HOSTS,
    }
    digest = hashlib.sha256(fixture("services.xml").read_bytes()).hexdigest()
    stored = run.home / "store" / "sha256" / digest[:2] / digest
    assert stored.read_bytes() == fixture("services.xml").read_bytes()
    listing = as_json(run("net", "list", "--format", "json").stdout)
    assert listing == [
        {
            "scan_id": 1,
            "scope": "testnet",
            "profile": "imported",
            "started": "2026-11-27T03:01:43+00:00",
            "hosts_up": 1,
        }
    ]
    engine = db.make_engine(run.db_url)
    with Session(engine) as session:
        scan = session.get(NetworkScan, 1)
        assert scan is not None and scan.raw_sha256 == digest and scan.nmap_version == "7.93"
        assert scan.command is not None and scan.command.endswith("-sS -sV -p 22,80,443,8080 10.253.39.2")
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "net.import")).all()
        assert [(e.actor, e.object_id, e.after["hosts_up"], e.after["raw_sha256"]) for e in events] == [
            ("tester", "1", 1, digest)
        ]
    engine.dispose()
    assert as_json(run("net", "show", "1", "--format", "json").stdout)["hosts"] == SERVICES_HOSTS


def test_import_ipv6_old_format_and_down_hosts(run) -> None:
    add_scope(run.db_url, "v6", "::1/128")
    data = as_json(run("net", "import", str(fixture("ipv6.xml")), "--format", "json").stdout)
    assert data["scope"] == "v6" and data["hosts"][0]["address"] == "::1"
    data = as_json(run("net", "import", str(fixture("nmap-4.76.xml")), "--format", "json").stdout)
    assert data["scope"] is None  # no declared scope holds 10.253.38.0/29
    assert [(h["address"], h["hostnames"], [p["port"] for p in h["ports"]]) for h in data["hosts"]] == [
        ("10.253.38.2", ["web01.example.test"], [21, 23, 80]),
        ("10.253.38.3", [], [22, 3306]),
    ]
    data = as_json(run("net", "import", str(fixture("down.xml")), "--format", "json").stdout)
    assert [(h["address"], h["state"]) for h in data["hosts"]] == [
        ("10.253.39.0", "down"), ("10.253.39.2", "up"), ("10.253.39.3", "down"), ("10.253.39.1", "up"),
    ]  # fmt: skip


def test_broken_files_import_nothing(run, tmp_path: Path) -> None:
    add_scope(run.db_url)
    big = tmp_path / "cut.xml"
    write_xml(big, 1500, 3)  # more than one batch of hosts is written before the break
    big.write_bytes(big.read_bytes()[:-300])
    for path, where in [
        (fixture("truncated.xml"), "truncated.xml:22:1: malformed or truncated XML (unclosed token)"),
        (fixture("malformed.xml"), "malformed.xml:19:3: malformed or truncated XML (mismatched tag)"),
        (fixture("not-nmap.xml"), "not nmap XML output (root element <report>, expected <nmaprun>)"),
        (big, "cut.xml:"),
    ]:
        result = run("net", "import", str(path), "--format", "json")
        assert result.exit_code == 2
        assert where in result.stderr
        assert result.stdout == ""
    assert as_json(run("net", "list", "--format", "json").stdout) == []
    assert count(run.db_url, ObservedHost) == 0 and count(run.db_url, ObservedPort) == 0
    assert not list((run.home / "store").rglob("sha256/*/*")) if (run.home / "store").exists() else True
    assert not list((run.home / "store").glob(".incoming-*"))  # the helper's copies of refused files are gone
    result = run("net", "import", str(fixture("services.xml")), "--scope", "nowhere")
    assert result.exit_code == 2 and "no scope named 'nowhere'" in result.stderr


def _variant(tmp_path: Path, name: str, replacements: list[tuple[str, str]]) -> Path:
    text = fixture("services.xml").read_text()
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text)
    return path


def test_diff_like_ndiff(run, tmp_path: Path) -> None:
    add_scope(run.db_url)
    later = _variant(
        tmp_path,
        "later.xml",
        [
            ('start="1795748503"', 'start="1795834903"'),
            (
                'portid="80"><state state="open" reason="syn-ack"',
                'portid="80"><state state="closed" reason="reset"',
            ),
            (
                'portid="8080"><state state="closed" reason="reset"',
                'portid="8080"><state state="open" reason="syn-ack"',
            ),
            ('version="9.2p1 Debian 2+deb12u3"', 'version="9.6p1"'),
        ],
    )
    assert run("net", "import", str(fixture("services.xml"))).exit_code == 0
    assert run("net", "import", str(later)).exit_code == 0
    expected = {
        "from": 1,
        "to": 2,
        "changes": [
            {"address": "10.253.39.2", "kind": "service_changed", "port": 22, "protocol": "tcp",
             "before": "ssh OpenSSH 9.2p1 Debian 2+deb12u3", "after": "ssh OpenSSH 9.6p1"},
            {"address": "10.253.39.2", "kind": "port_closed", "port": 80, "protocol": "tcp", "before": "open",
             "after": "closed"},
            {"address": "10.253.39.2", "kind": "port_opened", "port": 8080, "protocol": "tcp",
             "before": "closed", "after": "open"},
        ],
    }  # fmt: skip
    assert as_json(run("net", "diff", "--format", "json").stdout) == expected
    assert as_json(run("net", "diff", "1", "2", "--format", "json").stdout) == expected
    assert as_json(run("net", "diff", "--scope", "testnet", "--format", "json").stdout) == expected
    result = run("net", "diff", "1")
    assert result.exit_code == 2 and "give two scan ids" in result.stderr


def test_diff_hosts_and_os(run, tmp_path: Path) -> None:
    add_scope(run.db_url)
    run("net", "import", str(fixture("down.xml")))
    run("net", "import", str(fixture("discovery.xml")))  # same two hosts up: nothing changed
    assert as_json(run("net", "diff", "1", "2", "--format", "json").stdout)["changes"] == []
    os_text = fixture("os.xml").read_text()
    newer = tmp_path / "os2.xml"
    newer.write_text(os_text.replace('name="Linux 5.3 - 5.4"', 'name="Linux 6.1"'))
    run("net", "import", str(fixture("os.xml")))
    run("net", "import", str(newer))
    assert as_json(run("net", "diff", "3", "4", "--format", "json").stdout)["changes"] == [
        {"address": "10.253.39.2", "kind": "os_changed", "port": None, "protocol": None,
         "before": "Linux 5.3 - 5.4", "after": "Linux 6.1"}
    ]  # fmt: skip
    # discovery (no ports probed) → services: host .1 went away, .2 gains nothing it was not probed for before
    run("net", "import", str(fixture("services.xml")))
    changes = as_json(run("net", "diff", "2", "5", "--format", "json").stdout)["changes"]
    assert changes == [
        {
            "address": "10.253.39.1",
            "kind": "host_down",
            "port": None,
            "protocol": None,
            "before": "up",
            "after": None,
        }
    ]


def test_unknowns_and_host_observations(run) -> None:
    add_scope(run.db_url)
    add_rows(
        run.db_url,
        host("web", "10.253.39.2", ["22/tcp", {"port": 443, "protocol": "tcp"}]),
        host("gone", "10.253.39.5", [22]),
    )
    run("net", "import", str(fixture("discovery.xml")))
    rows = as_json(run("net", "unknown", "--format", "json").stdout)
    assert [(r["address"], r["kind"], r["host"], r["ports"]) for r in rows] == [
        ("10.253.39.1", "unknown_host", None, []),
        ("10.253.39.5", "not_seen", "gone", []),
    ]
    run("net", "import", str(fixture("services.xml")))  # newer: the latest scan of the scope
    rows = as_json(run("net", "unknown", "--scope", "testnet", "--format", "json").stdout)
    assert [(r["scan_id"], r["address"], r["kind"], r["host"], r["ports"]) for r in rows] == [
        (2, "10.253.39.2", "undeclared_ports", "web", ["80/tcp"]),
        (2, "10.253.39.5", "not_seen", "gone", []),
    ]
    engine = db.make_engine(run.db_url)
    with Session(engine) as session:
        seen = host_observations(session, ["10.253.39.2", "10.253.39.1", "10.253.39.5"])
    engine.dispose()
    assert seen == {
        "10.253.39.2": {"last_seen": datetime(2026, 11, 27, 3, 1, 54, tzinfo=UTC),
                        "open_ports": ["22/tcp", "80/tcp", "443/tcp"]},
        "10.253.39.1": {"last_seen": datetime(2026, 11, 27, 3, 1, 43, tzinfo=UTC), "open_ports": []},
    }  # fmt: skip


def test_host_list_shows_last_seen_and_open_ports(run) -> None:
    add_scope(run.db_url)
    add_rows(run.db_url, host("app", "10.253.39.2", ["22/tcp"]), host("gone", "10.253.39.5"))
    run("net", "import", str(fixture("services.xml")))
    lines = run("host", "list", "--format", "csv").stdout.splitlines()
    assert lines == [
        "name,address,system,os,zone,transport,last_seen,open_ports",
        'app,10.253.39.2,,,,local,2026-11-27 10:01,"22/tcp, 80/tcp, 443/tcp"',  # local time (UTC+7)
        "gone,10.253.39.5,,,,local,,",
    ]
    data = as_json(run("host", "list", "--format", "json").stdout)
    keys = ["address", "last_seen", "name", "open_ports", "os", "system", "transport", "zone"]
    assert [sorted(row) for row in data] == [keys] * 2
    ports = [(row["name"], row["open_ports"]) for row in data]
    assert ports == [("app", ["22/tcp", "80/tcp", "443/tcp"]), ("gone", None)]
    assert data[0]["last_seen"].endswith("+00:00") and data[1]["last_seen"] is None


def test_a_big_import_prints_a_short_table_and_show_prints_all(run, tmp_path: Path) -> None:
    path = tmp_path / "sixty.xml"
    write_xml(path, 60, 1)
    result = run("net", "import", str(path))
    assert result.exit_code == 0, result.output
    listed = [line.split()[1] for line in result.stdout.splitlines() if line.startswith("│ 127.")]
    assert listed == [f"127.1.0.{i}" for i in range(1, 51)]
    assert result.stdout.splitlines()[-1] == "50 of 60 hosts shown; all of them: secops net show 1"
    shown = run("net", "show", "1")
    assert [line.split()[1] for line in shown.stdout.splitlines() if line.startswith("│ 127.")] == [
        f"127.1.0.{i}" for i in range(1, 61)
    ]
    assert len(as_json(run("net", "import", str(path), "--format", "json").stdout)["hosts"]) == 60
