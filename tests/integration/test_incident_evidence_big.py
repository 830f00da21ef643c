"""A 1 GB evidence file streams into the store in constant memory (slow: SECOPS_SLOW=1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.bench_evidence import measure


@pytest.mark.slow
def test_one_gigabyte_evidence_in_constant_memory(tmp_path: Path) -> None:
    r = measure(1024, tmp_path)
    assert r["stored_bytes"] == 1024 * 1024 * 1024
    # Streaming: the intake costs no more than a few MiB over an idle secops command, never the file size.
    assert float(r["secops_peak_rss_mb"]) < float(r["idle_peak_rss_mb"]) + 64
    assert float(r["secops_peak_rss_mb"]) < 300
