"""docs/cli.md is the CLI's own --help: regenerate with `python tools/clidoc.py` when a command changes."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_cli_reference_is_current() -> None:
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import clidoc
    finally:
        sys.path.pop(0)
    assert clidoc.OUT.read_text(encoding="utf-8") == clidoc.render(), "run: python tools/clidoc.py"
