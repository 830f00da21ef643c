"""Run nmap through python-nmap (an argument list, never a shell) and hand back its raw XML.

Only a ``ScanPlan`` from the scope guard can be run, so an unchecked target cannot reach this module.
``SECOPS_NMAP`` (or ``[netscan] nmap`` in secops.toml) names the nmap binary; tests point it at a
sentinel to prove a refused scan never started one.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import nmap

from secops.errors import SecopsError
from secops.i18n import _
from secops.netscan.profiles import NmapArguments
from secops.netscan.scope import ScanPlan

MAX_XML_BYTES = 512 * 1024 * 1024
NMAP_ENV = "SECOPS_NMAP"


class ScanFailed(SecopsError):
    """nmap could not run or returned no usable XML (exit 3: nothing was observed)."""

    exit_code = 3


@dataclass(frozen=True)
class RawScan:
    xml: bytes
    nmap_path: str


def nmap_path(config: dict[str, Any] | None = None) -> str:
    """The nmap binary: $SECOPS_NMAP, else ``[netscan] nmap``, else nmap on PATH."""
    configured = os.environ.get(NMAP_ENV) or (config or {}).get("nmap")
    if configured:
        return str(configured)
    return shutil.which("nmap") or "/usr/bin/nmap"


def run(
    plan: ScanPlan,
    arguments: NmapArguments,
    *,
    path: str,
    timeout: int,
    wait: Callable[[Callable[[], bytes]], bytes] | None = None,
) -> RawScan:
    """Run nmap for ``plan``; ``wait`` may wrap the blocking call (a progress display)."""
    try:
        scanner = nmap.PortScanner(nmap_search_path=(path,))
    except nmap.PortScannerError as exc:
        raise ScanFailed(_("nmap is not usable at {path}: {error}").format(path=path, error=str(exc).strip())) from exc

    def call() -> bytes:
        try:
            scanner.scan(hosts=" ".join(plan.nmap_targets), arguments=" ".join(arguments.args), timeout=timeout)
        except nmap.PortScannerTimeout as exc:
            raise ScanFailed(
                _("nmap did not finish within {seconds} s; nothing stored").format(seconds=timeout)
            ) from exc
        except nmap.PortScannerError as exc:
            raise ScanFailed(_("nmap failed: {error}").format(error=str(exc).strip()[:500])) from exc
        output = scanner.get_nmap_last_output()
        return output if isinstance(output, bytes) else str(output).encode()

    xml = wait(call) if wait is not None else call()
    if len(xml) > MAX_XML_BYTES:
        raise ScanFailed(_("nmap output exceeds {limit} bytes; nothing stored").format(limit=MAX_XML_BYTES))
    return RawScan(xml=xml, nmap_path=path)
