"""Notifications to a local SMTP sink (aiosmtpd) and a local HTTP server, both on 127.0.0.1, sent once."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import Session

from secops import db
from secops.models import Scope
from tests.conftest import Cli


class Sink:
    def __init__(self) -> None:
        self.mails: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Sink, int]]:
    sink, port = Sink(), _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield sink, port
    controller.stop()


@pytest.fixture
def webhook() -> Iterator[tuple[list[dict[str, Any]], int]]:
    posts: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            posts.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield posts, int(server.server_address[1])
    server.shutdown()
    server.server_close()


@pytest.fixture
def sqlite_run(tmp_path: Path) -> Cli:
    home = tmp_path / "home"
    home.mkdir()
    return Cli(f"sqlite:///{tmp_path / 'notify.db'}", home)


def _configure(run: Cli, smtp_port: int, hook_port: int) -> None:
    (run.home / "secops.toml").write_text(
        f"""
[notify.smtp]
host = "127.0.0.1"
port = {smtp_port}
from = "secops@so-tttt.example.vn"
to = ["soc@so-tttt.example.vn", "lanh-dao@so-tttt.example.vn"]
timeout = 5

[notify.webhook]
url = "http://127.0.0.1:{hook_port}/hook"
timeout = 5
"""
    )


def test_overdue_deadline_and_failed_job_notify_once(
    sqlite_run: Cli, smtp: tuple[Sink, int], webhook: tuple[list[dict[str, Any]], int], tmp_path: Path
) -> None:
    run, (sink, smtp_port), (posts, hook_port) = sqlite_run, smtp, webhook
    _configure(run, smtp_port, hook_port)
    detected = (datetime.now(UTC) - timedelta(days=6)).strftime("%Y-%m-%dT%H:%M:%SZ")
    opened = run(
        "incident",
        "open",
        "--title",
        "Mã độc trên máy chủ cổng DVC",
        "--category",
        "malware",
        "--detected-at",
        detected,
        "--detected-by",
        "ids",
        "--playbook",
        "none",
    )
    assert opened.exit_code == 0, opened.output
    assert run("schedule", "add", "sweep", "--job", "deadline-sweep", "--every", "1h").exit_code == 0
    for _ in range(2):  # the second sweep finds the same overdue clock and stays quiet
        result = run("schedule", "run-now", "sweep", "--format", "json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["result"] == {"deadlines": 1}
    assert len(sink.mails) == 1 and len(posts) == 1
    rcpt, mail = sink.mails[0]
    assert rcpt == ["soc@so-tttt.example.vn", "lanh-dao@so-tttt.example.vn"]
    assert mail["Subject"] == "[secops] Overdue: Incident notification for SC-2026-0001"
    assert mail["From"] == "secops@so-tttt.example.vn"
    assert posts[0]["key"] == "deadline:SC-2026-0001:notification:overdue"
    assert posts[0]["kind"] == "deadline" and posts[0]["data"]["status"] == "overdue"

    # A job that fails (nmap missing) notifies its failure; each failed execution is its own notice.
    engine = db.make_engine(run.db_url)
    with Session(engine) as session:
        session.add(Scope(name="lo", cidr="127.0.0.1/32"))
        session.commit()
    engine.dispose()
    assert run("schedule", "add", "scan", "--job", "net-scan", "--target", "lo", "--every", "1d").exit_code == 0
    failed = run("schedule", "run-now", "scan", "--format", "json", SECOPS_NMAP=str(tmp_path / "no-nmap"))
    assert failed.exit_code == 1
    error = json.loads(failed.output)["error"]
    assert error.startswith("nmap is not usable at ")
    assert len(sink.mails) == 2 and len(posts) == 2
    assert sink.mails[1][1]["Subject"] == "[secops] Scheduled job scan failed"
    assert posts[1]["kind"] == "job_failed" and posts[1]["data"]["error"] == error
    history = json.loads(run("schedule", "history", "scan", "--format", "json").output)
    assert [(h["status"], h["error"]) for h in history] == [("failed", error)]


def test_unreachable_channels_are_retried_next_time(sqlite_run: Cli, smtp: tuple[Sink, int]) -> None:
    run, (sink, smtp_port) = sqlite_run, smtp
    _configure(run, _free_port(), _free_port())  # nothing listens on either port
    detected = (datetime.now(UTC) - timedelta(days=6)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (
        run(
            "incident",
            "open",
            "--title",
            "x",
            "--category",
            "dos",
            "--detected-at",
            detected,
            "--detected-by",
            "log",
            "--playbook",
            "none",
        ).exit_code
        == 0
    )
    assert run("schedule", "add", "sweep", "--job", "deadline-sweep", "--every", "1h").exit_code == 0
    assert run("schedule", "run-now", "sweep").exit_code == 0  # the job itself succeeded
    _configure(run, smtp_port, _free_port())
    assert run("schedule", "run-now", "sweep").exit_code == 0
    assert [m["Subject"] for _, m in sink.mails] == ["[secops] Overdue: Incident notification for SC-2026-0001"]


def test_smtp_login_takes_the_password_from_the_environment(sqlite_run: Cli) -> None:
    from aiosmtpd.smtp import AuthResult, LoginPassword

    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        assert isinstance(data, LoginPassword)
        logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"s3cret")

    sink, port = Sink(), _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, authenticator=authenticator, auth_require_tls=False)
    controller.start()
    try:
        run = sqlite_run
        (run.home / "secops.toml").write_text(
            f'[notify.smtp]\nhost = "127.0.0.1"\nport = {port}\nfrom = "a@x.vn"\nto = ["b@x.vn"]\n'
            'user = "secops"\npassword_env = "SECOPS_TEST_SMTP_PASSWORD"\n'
        )
        assert run("schedule", "add", "fail", "--job", "check-run", "--target", "all", "--every", "1d").exit_code == 0
        result = run("schedule", "run-now", "fail", SECOPS_TEST_SMTP_PASSWORD="s3cret")
        assert result.exit_code == 1  # no hosts: the job fails and says so by mail
    finally:
        controller.stop()
    assert logins == [(b"secops", b"s3cret")]
    assert [m["Subject"] for _, m in sink.mails] == ["[secops] Scheduled job fail failed"]
    assert "s3cret" not in (run.home / "secops.toml").read_text()


def test_new_high_failures_and_unknown_hosts_notify_once(
    sqlite_run: Cli, webhook: tuple[list[dict[str, Any]], int]
) -> None:
    """A real check run on this machine (local transport) and a real nmap discovery of 127.0.0.2."""
    from sqlmodel import select

    from secops.models import Agency, Host, System
    from secops.models.compliance import CheckResult

    run, (posts, hook_port) = sqlite_run, webhook
    (run.home / "secops.toml").write_text(f'[notify.webhook]\nurl = "http://127.0.0.1:{hook_port}/h"\n')
    engine = db.make_engine(run.db_url)
    db.upgrade(engine)
    with db.session_scope(engine) as session:
        agency = Agency(code="stttt", name="Sở TT&TT")
        session.add(agency)
        session.flush()
        system = System(code="sys3", name="Cổng DVC", owner_id=agency.id or 0, approved_level=3)
        session.add(system)
        session.flush()
        session.add(Host(name="may-nay", address="127.0.0.1", system_id=system.id, os="linux", transport="local"))
        session.add(Scope(name="lo2", cidr="127.0.0.2/32"))
    assert run("schedule", "add", "chk", "--job", "check-run", "--target", "sys3", "--every", "1d").exit_code == 0
    assert run("schedule", "add", "disc", "--job", "net-scan", "--target", "lo2", "--every", "7d").exit_code == 0

    first = run("schedule", "run-now", "chk", "--format", "json")
    assert first.exit_code == 0, first.output
    run_id = json.loads(first.output)["result"]["check_run"]
    with db.session_scope(engine) as session:
        failing = {
            f"check-fail:{r.host_name}:{r.check_id}"
            for r in session.exec(select(CheckResult).where(CheckResult.run_id == run_id))
            if r.status == "fail" and r.severity in ("high", "critical")
        }
    engine.dispose()
    assert failing  # this machine fails some high checks (as in the compliance demo)
    assert {p["key"] for p in posts if p["kind"] == "check_failed"} == failing
    assert len(posts) == len(failing)
    assert run("schedule", "run-now", "chk").exit_code == 0
    assert len(posts) == len(failing)  # the same failures again: nothing new to say

    for _ in range(2):
        scan = run("schedule", "run-now", "disc", "--format", "json")
        assert scan.exit_code == 0, scan.output
        assert isinstance(json.loads(scan.output)["result"]["scan"], int)
    unknown = [p for p in posts if p["kind"] == "unknown_host"]
    assert [(p["key"], p["data"]["address"]) for p in unknown] == [("unknown-host:lo2:127.0.0.2", "127.0.0.2")]


def test_many_new_notices_of_one_kind_make_one_mail(
    sqlite_run: Cli, smtp: tuple[Sink, int], webhook: tuple[list[dict[str, Any]], int]
) -> None:
    """Three checks failing after one run: one e-mail listing them; the webhook still gets each one."""
    from secops.i18n import current_language, set_language
    from secops.scheduler import notify

    run, (sink, smtp_port), (posts, hook_port) = sqlite_run, smtp, webhook
    config = notify.load_config(
        {"smtp": {"host": "127.0.0.1", "port": smtp_port, "from": "secops@x.vn", "to": ["soc@x.vn"], "timeout": 5},
         "webhook": {"url": f"http://127.0.0.1:{hook_port}/h", "timeout": 5}}
    )  # fmt: skip
    failing = [
        notify.Notice(f"check-fail:web{i}:ssh_root_login", "check_failed", f"high check failing on web{i}: ssh",
                      f"Check run 7: ssh_root_login fails on web{i} (high).")
        for i in (1, 2, 3)
    ]  # fmt: skip
    overdue = notify.Notice("deadline:SC-1:notification:overdue", "deadline", "Overdue: notification", "Overdue.")
    engine = db.make_engine(run.db_url)
    db.upgrade(engine)
    before = current_language()
    set_language("en")
    try:
        sent = notify.deliver(engine, config, [*failing, overdue])
        again = notify.deliver(engine, config, [*failing, overdue])
    finally:
        set_language(before)
        engine.dispose()
    assert sent == [n.key for n in [*failing, overdue]] and again == []
    assert [p["key"] for p in posts] == sent  # one POST per notice
    subjects = [mail["Subject"] for _, mail in sink.mails]
    assert subjects == [
        "[secops] Overdue: notification",
        "[secops] 3 checks of high or critical severity newly failing",
    ]
    body = sink.mails[1][1].get_payload(decode=True).decode()
    assert body.splitlines() == [
        "- high check failing on web1: ssh", "  Check run 7: ssh_root_login fails on web1 (high).", "",
        "- high check failing on web2: ssh", "  Check run 7: ssh_root_login fails on web2 (high).", "",
        "- high check failing on web3: ssh", "  Check run 7: ssh_root_login fails on web3 (high).",
    ]  # fmt: skip
