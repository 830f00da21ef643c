"""Parsers that interpret configuration, not just split it: PAM password and lockout, host firewalls."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from secops.probes.parsers import _int, _lines, parser, sections

_CLASSES = ("dcredit", "ucredit", "lcredit", "ocredit")


def _module_args(line: str, module: str) -> dict[str, str] | None:
    """Arguments of ``module`` on a PAM line (``key=value`` and bare flags), or None if absent."""
    words = line.split()
    for index, word in enumerate(words):
        if word.endswith(module + ".so") or word == module:
            args: dict[str, str] = {}
            for arg in words[index + 1 :]:
                key, _, value = arg.partition("=")
                args[key] = value
            return args
    return None


def _conf(body: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in _lines(body):
        key, sep, value = line.partition("=")
        out[key.strip()] = value.strip() if sep else ""
    return out


@parser("pam_password")
def parse_pam_password(text: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """Effective password-quality policy from the PAM password stack and pwquality.conf.

    ``min_length`` is the shortest password the policy accepts: pwquality's ``minlen`` less any positive
    credits (each credit lets a character of that class count twice), never below 6 (libpwquality's floor).
    ``required_classes`` counts classes forced by a negative credit, or ``minclass`` if larger.
    """
    parts = sections(text)
    settings: dict[str, str] = {}
    for name, body in parts.items():
        if "pwquality.conf" in name:
            settings.update(_conf(body))
    module = None
    unix_args: dict[str, str] = {}
    history: dict[str, str] = {}
    for name, body in parts.items():
        if not name.startswith("/etc/pam.d/"):
            continue
        for line in _lines(body):
            if not line.startswith("password"):
                continue
            for candidate in ("pam_pwquality", "pam_cracklib"):
                args = _module_args(line, candidate)
                if args is not None:
                    module = candidate
                    settings.update(args)
            unix_args.update(_module_args(line, "pam_unix") or {})
            history.update(_module_args(line, "pam_pwhistory") or {})
    minlen = _int(settings.get("minlen")) or (9 if module == "pam_cracklib" else 8)
    credits = {c: _int(settings.get(c)) or (1 if module == "pam_cracklib" else 0) for c in _CLASSES}
    forced = sum(1 for value in credits.values() if value < 0)
    minclass = _int(settings.get("minclass")) or 0
    remember = _int(history.get("remember")) or _int(unix_args.get("remember")) or 0
    if module is None:
        unix_min = _int(unix_args.get("minlen")) or 6
        return {
            "module": None,
            "enforced": False,
            "min_length": unix_min,
            "required_classes": 0,
            "minclass": 0,
            **dict.fromkeys(_CLASSES, 0),
            "remember": remember,
        }
    effective = max(6, minlen - sum(value for value in credits.values() if value > 0))
    return {
        "module": module,
        "enforced": True,
        "min_length": effective,
        "minlen": minlen,
        "required_classes": max(forced, minclass),
        "minclass": minclass,
        **credits,
        "remember": remember,
        "enforce_for_root": "enforce_for_root" in settings,
    }


@parser("pam_lockout")
def parse_pam_lockout(text: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """Account lockout from the PAM auth stack (pam_faillock or pam_tally2) and faillock.conf."""
    parts = sections(text)
    settings: dict[str, str] = {}
    for name, body in parts.items():
        if name.endswith("faillock.conf"):
            settings.update(_conf(body))
    module = None
    for name, body in parts.items():
        if not name.startswith("/etc/pam.d/"):
            continue
        for line in _lines(body):
            if not line.startswith("auth"):
                continue
            for candidate in ("pam_faillock", "pam_tally2"):
                args = _module_args(line, candidate)
                if args is not None:
                    module = candidate
                    settings.update(
                        {k: v for k, v in args.items() if k not in ("preauth", "authfail", "authsucc")}
                    )
    if module is None:
        return {"module": None, "enabled": False, "deny": 0, "unlock_time": None, "fail_interval": None}
    deny = _int(settings.get("deny"))
    return {
        "module": module,
        "enabled": True,
        "deny": 3 if deny is None and module == "pam_faillock" else (deny or 0),
        "unlock_time": _int(settings.get("unlock_time")) if "unlock_time" in settings else 600,
        "fail_interval": _int(settings.get("fail_interval")) if "fail_interval" in settings else 900,
        "even_deny_root": "even_deny_root" in settings,
    }


_FINAL_DROP = re.compile(r"^(counter( packets \d+ bytes \d+)? )?(drop|reject( with .+)?)$")


def _nft(body: str) -> tuple[bool, bool]:
    """(has rules or a restrictive policy, input default-denies) from ``nft list ruleset``."""
    active = deny = False
    chain: list[str] | None = None
    for line in _lines(body):
        if line.startswith("chain "):
            chain = []
            continue
        if chain is None:
            continue
        if line == "}":
            hook_input = any(re.search(r"\bhook input\b", item) for item in chain)
            policy = next(
                (m.group(1) for item in chain if (m := re.search(r"policy (\w+);", item))), "accept"
            )
            rules = [item for item in chain if not item.startswith("type ")]
            active = active or bool(rules) or policy != "accept"
            if hook_input and (policy in ("drop", "reject") or (rules and _FINAL_DROP.match(rules[-1]))):
                deny = True
            chain = None
            continue
        chain.append(line)
    return active, deny


def _iptables(body: str) -> tuple[bool, bool]:
    lines = _lines(body)
    policy = next((line.split()[2] for line in lines if line.startswith("-P INPUT ")), "ACCEPT")
    rules = [line for line in lines if line.startswith("-A ")]
    input_rules = [line for line in rules if line.startswith("-A INPUT ")]
    final_drop = bool(input_rules) and re.search(r"-j (DROP|REJECT)\b", input_rules[-1]) is not None
    last_is_catch_all = (
        final_drop and len(input_rules[-1].split()) <= 4 + ("--reject-with" in input_rules[-1]) * 2
    )
    return bool(rules) or policy != "ACCEPT", policy in ("DROP", "REJECT") or last_is_catch_all


@parser("firewall")
def parse_firewall(text: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """Host firewall state from ``nft``, ``iptables -S``, ``ufw status verbose`` and firewalld."""
    parts = sections(text)
    backends: list[str] = []
    deny = False
    ufw = parts.get("ufw", "")
    if re.search(r"^Status: active", ufw, re.M):
        backends.append("ufw")
        deny = deny or re.search(r"^Default: (deny|reject) \(incoming\)", ufw, re.M) is not None
    if parts.get("firewalld", "").strip() == "running":
        backends.append("firewalld")
        deny = True  # firewalld zones reject what they do not allow
    nft_active, nft_deny = _nft(parts.get("nft", ""))
    if nft_active:
        backends.append("nftables")
        deny = deny or nft_deny
    ipt_active, ipt_deny = _iptables(parts.get("iptables", ""))
    if ipt_active:
        backends.append("iptables")
        deny = deny or ipt_deny
    return {"active": bool(backends), "default_deny_input": deny, "backends": backends}
