"""The batched collection script (one ``sh -s`` per host) and the parser of its framed output.

Framing, all on stdout: every marker line starts with a newline and a random per-run nonce, so fact output
(even output that prints marker-like text) cannot be mistaken for a marker, and the newline we add before a
marker is removed exactly once::

    \\n<nonce> B <id>\\n<stdout…>\\n<nonce> O <rc>\\n<stderr…>\\n<nonce> E\\n      (a fact that ran)
    \\n<nonce> S <id> <reason>\\n                                               (a fact that was skipped)
    \\n<nonce> DONE\\n                                                          (the end of the script)

Each fact runs under ``timeout`` with stdin from /dev/null; its stdout and stderr are cut on the host at
``cap + 1`` bytes (``head -c``), so a runaway command costs neither bandwidth nor memory, and the extra byte
tells us it was truncated.
"""

from __future__ import annotations

import math
import secrets
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field

from secops.collect.bundle import FactSpec, RawFact

TIMEOUT_RC = 124  # timeout(1): the command ran out of time
SKIP_NO_SUDO = "needs root; host has no sudo"
SKIP_SUDO_REFUSED = "needs root; sudo -n refused (no passwordless sudo for this user)"


def new_nonce() -> str:
    return "SECOPS-" + secrets.token_hex(16)


def build_script(specs: Sequence[FactSpec], nonce: str, *, sudo: bool, cap: int) -> str:
    """One POSIX sh script that runs every fact in order; the ids and commands come from our own catalog."""
    q = shlex.quote
    lines = [
        "#!/bin/sh",
        "# secops fact collection",
        "umask 077",
        # our catalog's commands (sshd -T, sysctl, ss…) live in sbin; C locale keeps their output parseable
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH LC_ALL=C LANG=C",
        "export PATH LC_ALL LANG",
        f"N={q(nonce)}",
        "T=$(mktemp -d 2>/dev/null || mktemp -d -t secops.XXXXXX) || exit 97",
        "trap 'rm -rf \"$T\"' EXIT HUP INT TERM",
        "if command -v timeout >/dev/null 2>&1; then TO=timeout; else TO=; fi",
        # how root facts run: directly as root, through sudo -n, or not at all (with the reason)
        'if [ "$(id -u)" = 0 ]; then R=direct',
        f"elif {'true' if sudo else 'false'}; then",
        "  if sudo -n true >/dev/null 2>&1; then R=sudo; else R=refused; fi",
        "else R=none; fi",
        "f() {",  # f ID TIMEOUT ROOT CMD
        '  if [ "$3" = 1 ]; then',
        f'    case $R in none) printf "\\n%s S %s %s\\n" "$N" "$1" {q(SKIP_NO_SUDO)}; return;;',
        f'      refused) printf "\\n%s S %s %s\\n" "$N" "$1" {q(SKIP_SUDO_REFUSED)}; return;; esac',
        "  fi",
        '  printf "\\n%s B %s\\n" "$N" "$1"',
        '  if [ "$3" = 1 ] && [ "$R" = sudo ]; then S="sudo -n"; else S=; fi',
        f'  {{ ${{TO:+$TO -k 2 $2}} $S sh -c "$4" </dev/null 2>"$T/e"; echo $? >"$T/rc"; }}'
        f" | head -c {cap + 1}",
        '  printf "\\n%s O %s\\n" "$N" "$(cat "$T/rc" 2>/dev/null || echo 255)"',
        f'  head -c {cap + 1} "$T/e"',
        '  printf "\\n%s E\\n" "$N"',
        "}",
    ]
    for spec in specs:
        seconds = max(1, math.ceil(spec.timeout))
        lines.append(f"f {q(spec.id)} {seconds} {1 if spec.root else 0} {q(spec.command)}")
    lines.append('printf "\\n%s DONE\\n" "$N"')
    return "\n".join(lines) + "\n"


def _decode(data: bytes, cap: int) -> tuple[str, bool]:
    truncated = len(data) > cap
    return data[:cap].decode("utf-8", errors="replace"), truncated


@dataclass
class Parsed:
    facts: dict[str, RawFact] = field(default_factory=dict)
    done: bool = False
    partial: str | None = None  # id of a fact that began but did not end (host died or deadline passed)
    preamble: bytes = b""  # anything printed before the first marker (a noisy login shell), for diagnostics


def parse_output(data: bytes, nonce: str, cap: int) -> Parsed:
    """Split the framed stdout into facts; tolerate a cut-off stream (what is complete is kept)."""
    parsed = Parsed()
    parts = data.split(b"\n" + nonce.encode() + b" ")
    parsed.preamble = parts[0]
    current: str | None = None
    out = err = b""
    rc: int | None = None
    for part in parts[1:]:
        header, sep, body = part.partition(b"\n")
        if not sep:  # the stream ended inside a marker line
            break
        words = header.decode("utf-8", errors="replace").split(" ", 2)
        tag = words[0]
        if current is None and tag == "DONE":
            parsed.done = True
            break
        if current is None and tag == "S" and len(words) == 3:
            parsed.facts[words[1]] = RawFact(rc=None, stdout="", skipped=words[2])
        elif current is None and tag == "B" and len(words) == 2:
            current, out, rc = words[1], body, None
        elif current is not None and tag == "O" and len(words) == 2 and rc is None:
            rc = int(words[1]) if words[1].isdigit() else 255
            err = body
        elif current is not None and tag == "E" and rc is not None:
            stdout_text, out_cut = _decode(out, cap)
            stderr_text, err_cut = _decode(err, cap)
            timed_out = rc == TIMEOUT_RC
            parsed.facts[current] = RawFact(
                rc=None if timed_out else rc,
                stdout=stdout_text,
                stderr=stderr_text,
                truncated=out_cut or err_cut,
                timed_out=timed_out,
            )
            current, rc = None, None
        else:  # out of sequence: the stream is corrupt from here on
            break
    parsed.partial = current
    return parsed
