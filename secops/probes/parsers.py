"""Parsers: raw command output of a fact → a structured value. Pure functions, named in the fact YAML.

Each takes the command's stdout and the fact's ``options`` and returns plain data (dicts, lists, ints,
strings). A parser raises ``ValueError`` on output it cannot understand; the fact then becomes an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

Parser = Callable[[str, Mapping[str, Any]], Any]
PARSERS: dict[str, Parser] = {}


def parser(name: str) -> Callable[[Parser], Parser]:
    def deco(fn: Parser) -> Parser:
        PARSERS[name] = fn
        return fn

    return deco


def _lines(text: str, comment: str | None = "#") -> list[str]:
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or (comment and line.startswith(comment)):
            continue
        out.append(line)
    return out


def sections(text: str) -> dict[str, str]:
    """Split output made of ``==> NAME`` headers (our commands print them) into NAME → body."""
    parts: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("==> "):
            current = parts.setdefault(line[4:].strip(), [])
        elif current is not None:
            current.append(line)
    return {name: "\n".join(body) for name, body in parts.items()}


def _int(value: str | None) -> int | None:
    if value is None or not re.fullmatch(r"-?\d+", value.strip()):
        return None
    return int(value)


@parser("text")
def parse_text(text: str, options: Mapping[str, Any]) -> str:
    return text.strip()


@parser("lines")
def parse_lines(text: str, options: Mapping[str, Any]) -> list[str]:
    """Non-empty lines (comments skipped unless ``comment: null``), de-duplicated when ``unique``."""
    lines = _lines(text, options.get("comment", "#"))
    return sorted(set(lines)) if options.get("unique") else lines


@parser("int")
def parse_int(text: str, options: Mapping[str, Any]) -> int:
    match = re.search(r"-?\d+", text)
    if match is None:
        raise ValueError(f"no number in output {text.strip()[:60]!r}")
    return int(match.group())


@parser("keyvalue")
def parse_keyvalue(text: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """``key value`` or ``key<sep>value`` lines (sshd -T, login.defs, sysctl, os-release …).

    Options: ``sep`` (default whitespace), ``lower_keys``, ``strip_quotes``, ``repeated`` (``last`` keeps
    the last value, ``list`` gathers repeated keys into a list, ``first`` keeps the first).
    """
    sep = options.get("sep")
    repeated = options.get("repeated", "last")
    out: dict[str, Any] = {}
    for line in _lines(text, options.get("comment", "#")):
        if sep:
            if sep not in line:
                continue
            key, _, value = line.partition(sep)
        else:
            key, _, value = line.partition(" ") if " " in line else line.partition("\t")
        key, value = key.strip(), value.strip()
        if options.get("lower_keys"):
            key = key.lower()
        if options.get("strip_quotes") and len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        if key in out:
            if repeated == "first":
                continue
            if repeated == "list":
                prev = out[key]
                out[key] = [*prev, value] if isinstance(prev, list) else [prev, value]
                continue
        out[key] = value
    return out


@parser("passwd")
def parse_passwd(text: str, options: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``/etc/passwd`` lines → ``{user, uid, gid, gecos, home, shell}``."""
    out = []
    for number, line in enumerate(_lines(text), 1):
        fields = line.split(":")
        if len(fields) != 7 or _int(fields[2]) is None or _int(fields[3]) is None:
            raise ValueError(f"line {number}: not a passwd entry: {line[:60]!r}")
        out.append(
            {
                "user": fields[0],
                "uid": int(fields[2]),
                "gid": int(fields[3]),
                "gecos": fields[4],
                "home": fields[5],
                "shell": fields[6],
            }
        )
    return out


@parser("shadow")
def parse_shadow(text: str, options: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Redacted shadow lines ``user:EMPTY|LOCKED|SET:lastchg:min:max:warn:inactive:expire`` (no hashes)."""
    out = []
    for number, line in enumerate(_lines(text), 1):
        fields = line.split(":")
        if len(fields) < 8 or fields[1] not in ("EMPTY", "LOCKED", "SET"):
            raise ValueError(f"line {number}: not a redacted shadow entry: {line[:60]!r}")
        out.append(
            {
                "user": fields[0],
                "password": fields[1],
                "lastchg": _int(fields[2]),
                "min": _int(fields[3]),
                "max": _int(fields[4]),
                "warn": _int(fields[5]),
                "inactive": _int(fields[6]),
                "expire": _int(fields[7]),
            }
        )
    return out


@parser("stat")
def parse_stat(text: str, options: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """``stat -c '%n|%a|%U|%G'`` lines → path → ``{mode, owner, group}`` (mode in octal digits)."""
    out = {}
    for line in _lines(text, None):
        fields = line.split("|")
        if len(fields) != 4 or not re.fullmatch(r"[0-7]{1,4}", fields[1]):
            raise ValueError(f"not a stat line: {line[:60]!r}")
        out[fields[0]] = {"mode": fields[1], "owner": fields[2], "group": fields[3]}
    return out


@parser("ss_listen")
def parse_ss_listen(text: str, options: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``ss -Hlntu`` → ``{proto, address, port}`` per listening socket."""
    out = []
    for line in _lines(text, None):
        parts = line.split()
        if len(parts) < 5 or ":" not in parts[4]:
            continue
        address, _, port = parts[4].rpartition(":")
        if port.isdigit():
            out.append({"proto": parts[0], "address": address.strip("[]"), "port": int(port)})
    return out


_PERIOD_DAYS = {"daily": 1, "weekly": 7, "monthly": 30, "yearly": 365}


def _rotate_settings(lines: list[str], base: dict[str, int | None]) -> dict[str, int | None]:
    settings = dict(base)
    for line in lines:
        words = line.split()
        if words[0] in _PERIOD_DAYS:
            settings["period_days"] = _PERIOD_DAYS[words[0]]
        elif words[0] in ("rotate", "maxage") and len(words) > 1 and _int(words[1]) is not None:
            settings[words[0]] = int(words[1])
    return settings


def _retention(settings: Mapping[str, int | None]) -> int:
    days = (settings.get("rotate") or 0) * (settings.get("period_days") or 7)
    maxage = settings.get("maxage")
    return min(days, maxage) if maxage else days


@parser("logrotate")
def parse_logrotate(text: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """logrotate.conf + the syslog block → days of rotated logs kept (``rotate`` × period, ≤ maxage)."""
    parts = sections(text)
    main = parts.get("/etc/logrotate.conf", "")
    global_lines = []
    depth = 0
    for line in _lines(main):
        depth += line.count("{") - line.count("}")
        if depth == 0 and "{" not in line and "}" not in line:
            global_lines.append(line)
    base = _rotate_settings(global_lines, {"period_days": 7, "rotate": 0, "maxage": None})
    result: dict[str, Any] = {"configured": bool(main.strip()), "global_days": _retention(base)}
    syslog_days: list[int] = []
    for name, body in parts.items():
        if name == "/etc/logrotate.conf":
            continue
        for block in re.findall(r"([^{}]*)\{([^{}]*)\}", body):
            targets, inner = block
            if re.search(r"/var/log/(syslog|messages)\b", targets):
                syslog_days.append(_retention(_rotate_settings(_lines(inner), base)))
    result["syslog_days"] = min(syslog_days) if syslog_days else None
    result["retention_days"] = result["syslog_days"] if syslog_days else result["global_days"]
    return result


@parser("lastlog")
def parse_lastlog(text: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """``now=EPOCH`` + ``LC_ALL=C lastlog`` → ``{today, days_since_login: user → days or None}``."""
    lines = text.splitlines()
    now: int | None = None
    logins: dict[str, int | None] = {}
    for line in lines:
        if line.startswith("now="):
            now = _int(line[4:])
            continue
        if not line.strip() or line.startswith("Username"):
            continue
        user = line.split()[0]
        if "**Never logged in**" in line:
            logins[user] = None
            continue
        try:
            when = datetime.strptime(" ".join(line.split()[-6:]), "%a %b %d %H:%M:%S %z %Y")
        except ValueError as exc:
            raise ValueError(f"unreadable lastlog line: {line[:70]!r}") from exc
        logins[user] = None if now is None else max(0, int((now - when.timestamp()) // 86400))
    if now is None:
        raise ValueError("lastlog output lacks the now= line")
    return {"today": now // 86400, "days_since_login": logins}


from secops.probes import parsers_auth as _auth  # noqa: E402  (registers the PAM and firewall parsers)

__all__ = ["PARSERS", "_auth", "parser", "sections"]
