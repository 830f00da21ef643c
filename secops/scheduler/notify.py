"""Notifications over SMTP e-mail and a generic JSON webhook, each sent once (a dedupe key per thing).

Config (``secops.toml``)::

    [notify.smtp]                       [notify.webhook]
    host = "mail.example.vn"            url = "https://hooks.example.vn/secops"
    port = 587                          timeout = 10
    from = "secops@example.vn"
    to = ["soc@example.vn"]
    starttls = true
    user = "secops"
    password_env = "SECOPS_SMTP_PASSWORD"   # the password itself never sits in a file or the database
"""

from __future__ import annotations

import json
import logging
import os
import smtplib
import ssl
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from functools import partial
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from secops import db
from secops.errors import ConfigError
from secops.i18n import _
from secops.models.schedule import NotificationSent
from secops.timeutil import utcnow

log = logging.getLogger("secops.scheduler")


class SmtpConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    host: str
    port: int = 25
    sender: str = Field(alias="from")
    to: list[str] = Field(min_length=1)
    starttls: bool = False
    user: str | None = None
    password_env: str | None = None
    timeout: float = 15.0


class WebhookConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(pattern=r"^https?://")
    timeout: float = 10.0


class NotifyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    smtp: SmtpConfig | None = None
    webhook: WebhookConfig | None = None


def load_config(section: Mapping[str, Any]) -> NotifyConfig:
    """``[notify]`` of secops.toml, validated; an error names the key and the reason."""
    try:
        return NotifyConfig.model_validate(dict(section))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"secops.toml [notify] {where}: {first['msg']}") from exc


@dataclass(frozen=True)
class Notice:
    """One thing worth telling people about; ``key`` identifies it so it goes out once."""

    key: str
    kind: str  # job_failed | check_failed | unknown_host | deadline | inspection_due
    subject: str
    text: str
    data: dict[str, Any] = field(default_factory=dict)


def send_email(config: SmtpConfig, notice: Notice) -> None:
    message = EmailMessage()
    message["Subject"] = f"[secops] {notice.subject}"
    message["From"] = config.sender
    message["To"] = ", ".join(config.to)
    message.set_content(notice.text)
    with smtplib.SMTP(config.host, config.port, timeout=config.timeout) as smtp:
        if config.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if config.user:
            password = os.environ.get(config.password_env or "")
            if not password:
                raise ConfigError(
                    f"[notify.smtp] user is set but the environment variable {config.password_env!r} is empty"
                )
            smtp.login(config.user, password)
        smtp.send_message(message)


def send_webhook(config: WebhookConfig, notice: Notice) -> None:
    body = json.dumps(
        {
            "key": notice.key,
            "kind": notice.kind,
            "subject": notice.subject,
            "text": notice.text,
            "data": notice.data,
            "sent_at": utcnow().isoformat(),
        },
        ensure_ascii=False,
        default=str,
    ).encode()
    request = urllib.request.Request(  # noqa: S310 (http/https only: WebhookConfig.url)
        config.url, data=body, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
    )
    with urllib.request.urlopen(request, timeout=config.timeout) as response:  # noqa: S310
        response.read(65536)


def already_sent(engine: Engine, keys: Iterable[str]) -> set[str]:
    wanted = list(keys)
    if not wanted:
        return set()
    with db.session_scope(engine) as session:
        return set(session.exec(select(NotificationSent.key).where(col(NotificationSent.key).in_(wanted))))


def forget(engine: Engine, keys: Iterable[str]) -> None:
    """Re-arm keys (e.g. a check that passes again may notify when it fails again)."""
    wanted = list(keys)
    if wanted:
        with db.session_scope(engine) as session:
            session.execute(delete(NotificationSent).where(col(NotificationSent.key).in_(wanted)))


DIGEST_KINDS = ("check_failed", "unknown_host")  # come many at once, after one check run or one scan


def _digest_subject(kind: str, count: int) -> str:
    if kind == "check_failed":
        return _("{count} checks of high or critical severity newly failing").format(count=count)
    return _("{count} new hosts not in the inventory").format(count=count)


def mails(pending: list[Notice]) -> list[tuple[Notice, list[str]]]:
    """The e-mails for ``pending``, each with the notice keys it carries: one per notice, except that
    several new notices of a ``DIGEST_KINDS`` kind go out as one message (a first check run on fifty hosts
    must not send hundreds of mails). The webhook still gets one POST per notice: machines sort them."""
    single: list[tuple[Notice, list[str]]] = []
    grouped: dict[str, list[Notice]] = {}
    for notice in pending:
        if notice.kind in DIGEST_KINDS:
            grouped.setdefault(notice.kind, []).append(notice)
        else:
            single.append((notice, [notice.key]))
    for kind, group in grouped.items():
        if len(group) == 1:
            single.append((group[0], [group[0].key]))
            continue
        text = "\n\n".join(f"- {n.subject}\n  {n.text}" for n in group)
        digest = Notice(f"digest:{kind}", kind, _digest_subject(kind, len(group)), text)
        single.append((digest, [n.key for n in group]))
    return single


def _attempt(channel: str, what: str, send: Callable[[], None]) -> bool:
    try:
        send()
    except Exception as exc:  # a mail server or hook being down must not stop the scheduler
        log.warning("notification %s over %s failed: %s", what, channel, exc)
        return False
    return True


def deliver(engine: Engine, config: NotifyConfig, notices: Iterable[Notice]) -> list[str]:
    """Send each new notice on every channel; a notice counts as sent when one channel took it.

    Returns the keys sent. A failing channel is logged and retried next time (the key is not kept)."""
    pending = list({n.key: n for n in notices}.values())
    if not pending or (config.smtp is None and config.webhook is None):
        return []
    done = already_sent(engine, (n.key for n in pending))
    pending = [n for n in pending if n.key not in done]
    channels: dict[str, list[str]] = {n.key: [] for n in pending}
    if config.webhook is not None:
        for notice in pending:
            if _attempt("webhook", notice.key, partial(send_webhook, config.webhook, notice)):
                channels[notice.key].append("webhook")
    if config.smtp is not None:
        for mail, keys in mails(pending):
            if _attempt("smtp", mail.key, partial(send_email, config.smtp, mail)):
                for key in keys:
                    channels[key].append("smtp")
    sent: list[str] = []
    for notice in pending:
        if not channels[notice.key]:
            continue
        try:
            with db.session_scope(engine) as session:
                session.add(
                    NotificationSent(
                        key=notice.key, kind=notice.kind, subject=notice.subject[:300], channels=channels[notice.key]
                    )
                )
            sent.append(notice.key)
        except IntegrityError:
            continue
    return sent
