"""The Python escape hatch: named functions a probe can call with ``python: NAME`` and ``args``.

A function gets the parsed facts, the context (``level``, ``zone``, ``now`` …) and its ``args``, and returns
a ``Verdict``. Register new ones with ``@register("name")`` in a module imported by ``secops.probes``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from secops.probes.outcome import ProbeError, Verdict

ProbeFunction = Callable[[Mapping[str, Any], Mapping[str, Any], Mapping[str, Any]], Verdict]
FUNCTIONS: dict[str, ProbeFunction] = {}


def register(name: str) -> Callable[[ProbeFunction], ProbeFunction]:
    def deco(fn: ProbeFunction) -> ProbeFunction:
        if name in FUNCTIONS:
            raise ValueError(f"probe function {name!r} registered twice")
        FUNCTIONS[name] = fn
        return fn

    return deco


def _login_shell(shell: str) -> bool:
    return bool(shell) and not shell.endswith(("nologin", "/false", "/sync", "/shutdown", "/halt"))


@register("unused_login_accounts")
def unused_login_accounts(
    facts: Mapping[str, Any], context: Mapping[str, Any], args: Mapping[str, Any]
) -> Verdict:
    """Interactive accounts (login shell, usable password) not used for ``max_days``.

    Joins three facts: ``passwd`` (shell, uid), ``shadow`` (password state, last change) and ``lastlog``
    (days since last login, counted from the collection time). An account never used is stale only when its
    password was set longer ago than ``max_days`` (a new account is not "unused").
    """
    max_days = int(args.get("max_days", 90))
    min_uid = int(args.get("min_uid", 1000))
    passwd, shadow, lastlog = facts.get("passwd"), facts.get("shadow"), facts.get("lastlog")
    if not isinstance(passwd, list) or not isinstance(shadow, list) or not isinstance(lastlog, dict):
        raise ProbeError("unused_login_accounts needs passwd, shadow and lastlog facts")
    shadow_by_user = {entry["user"]: entry for entry in shadow}
    today = lastlog.get("today")
    logins: Mapping[str, Any] = lastlog.get("days_since_login", {})
    stale: list[str] = []
    for entry in passwd:
        user, uid = entry["user"], entry["uid"]
        if uid < min_uid or uid == 65534 or not _login_shell(entry["shell"]):
            continue
        sh = shadow_by_user.get(user)
        if sh is None or sh["password"] != "SET":  # noqa: S105 (a state, not a secret)
            continue
        days = logins.get(user)
        if days is None:  # never logged in: stale if the password is older than the limit
            changed = sh.get("lastchg")
            if today is None or changed is None or today - changed <= max_days:
                continue
        elif days <= max_days:
            continue
        stale.append(user)
    expected = f"no account with a login shell and a password unused for more than {max_days} days"
    observed = ", ".join(stale) if stale else "none"
    return Verdict(
        ok=not stale,
        expected=expected,
        observed=f"unused accounts: {observed}",
        failures=() if not stale else (f"unused accounts: {observed}",),
    )
