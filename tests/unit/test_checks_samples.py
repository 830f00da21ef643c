"""Every check's embedded samples, one test per check, through the real parsers and engine."""

from __future__ import annotations

import pytest

from secops.catalog import load_catalog
from secops.probes import run_samples

CATALOG = load_catalog()


@pytest.mark.parametrize("check_id", sorted(CATALOG.checks))
def test_samples(check_id: str) -> None:
    check = CATALOG.checks[check_id]
    results = run_samples(CATALOG, [check])
    assert {r.expected for r in results} >= {"pass", "fail"}
    failures = [f"{r.name}: expected {r.expected}, got {r.outcome}" for r in results if not r.ok]
    assert failures == []
