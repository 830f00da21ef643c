"""Pieces of the reports: dates, charts, the bulk scorer (same answers as the compliance scorer), forms."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pytest

from secops.compliance.scoring import HostResult, score_system
from secops.errors import InputError
from secops.reporting.charts import bar_chart
from secops.reporting.dates import fmt_date, fmt_datetime, long_date
from secops.reporting.forms import organization
from secops.reporting.levels import add_months
from secops.reporting.render import Report, label, pct, render_csv, write
from secops.reporting.scores import lean_score


@dataclass
class Req:
    id: str
    min_level: int
    checks: list[str] = field(default_factory=list)


def test_dates_are_dd_mm_yyyy_on_the_local_clock() -> None:
    late = datetime(2026, 11, 27, 18, 30, tzinfo=UTC)  # 01:30 next day in Hà Nội
    assert fmt_date(late) == "28/11/2026"
    assert fmt_datetime(late) == "28/11/2026 01:30"
    assert fmt_date(date(2025, 8, 4)) == "04/08/2025"
    assert fmt_date(None) == ""
    assert long_date(late, "vi") == "ngày 28 tháng 11 năm 2026"
    assert long_date(late, "en") == "28 November 2026"


def test_add_months_clamps_the_day() -> None:
    assert add_months(datetime(2026, 8, 31, tzinfo=UTC), 6) == datetime(2027, 2, 28, tzinfo=UTC)
    assert add_months(datetime(2027, 12, 15, tzinfo=UTC), 12) == datetime(2028, 12, 15, tzinfo=UTC)


def test_bar_chart_escapes_labels_and_writes_values() -> None:
    svg = str(bar_chart([("Cấp độ 3 <b>", 6, "#fff"), ("Cấp độ 4", 0, "#000")], title="Số hệ thống"))
    assert svg.startswith("<svg") and "<title>Số hệ thống</title>" in svg
    assert "Cấp độ 3 &lt;b&gt;" in svg and ">6</text>" in svg and ">0</text>" in svg
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")


def test_percent_and_labels() -> None:
    assert pct(0.8333) == "83 %" and pct(None) == "—"
    from secops.reporting.render import language

    with language("vi"):
        assert label("not_met") == "Chưa đáp ứng" and label("unknown-id") == "unknown-id"
    with language("en"):
        assert label("waived") == "Waived"


CASES = [
    # (results, hosts, attestations)
    ([("a", "h1", "pass"), ("a", "h2", "pass"), ("b", "h1", "fail")], ["h1", "h2"], {}),
    ([("a", "h1", "pass")], ["h1", "h2"], {}),  # h2 missing → not evaluated
    ([("a", "h1", "waived"), ("a", "h2", "not_applicable"), ("c", "h1", "error")], ["h1", "h2"], {"R3": "met"}),
    ([], [], {"R1": "not_met", "R4": "met"}),
    ([("a", "h1", "not_applicable"), ("b", "h1", "pass"), ("c", "h1", "pass")], ["h1"], {}),
]
REQS = [Req("R1", 1, ["a"]), Req("R2", 1, ["a", "b"]), Req("R3", 2, ["c"]), Req("R4", 2), Req("R5", 4, ["b"])]


@pytest.mark.parametrize(("results", "hosts", "attested"), CASES)
@pytest.mark.parametrize("level", [None, 1, 2, 3])
def test_lean_score_matches_the_compliance_scorer(
    results: list, hosts: list, attested: dict, level: int | None
) -> None:
    full = score_system("s", level, REQS, [HostResult(h, c, s) for c, h, s in results], hosts, attested)
    stats: dict[str, Counter[str]] = {}
    for check, _host, status in results:
        stats.setdefault(check, Counter())[status] += 1
    lean = lean_score(level, REQS, stats, len(hosts), attested)
    assert (lean.met, lean.not_met, lean.not_evaluated) == (full.met, full.not_met, full.not_evaluated)
    assert (lean.score, lean.coverage, lean.achieved_level) == (full.score, full.coverage, full.achieved_level)
    expected = [r.id for r in full.requirements if r.state == "not_met" and level and r.min_level <= level]
    assert sorted(lean.not_met_ids) == sorted(expected)


def test_organization_from_flat_or_nested_contact_never_invented() -> None:
    assert organization({})["name"] == "" and organization({})["contact_name"] == ""
    nested = organization({"name": "Sở KH&CN", "contact": {"name": "Trần Thị Bình", "phone": "0909"}})
    assert (nested["name"], nested["contact_name"], nested["contact_phone"]) == ("Sở KH&CN", "Trần Thị Bình", "0909")
    flat = organization({"contact_name": "Lê Văn C", "contact": {"name": "ignored"}})
    assert flat["contact_name"] == "Lê Văn C"


def test_csv_and_unknown_format(tmp_path) -> None:  # type: ignore[no-untyped-def]
    report = Report("levels", "t", {}, rows=[{"a": 1, "b": ["x", "y"], "c": None}], columns=("a", "b", "c"))
    assert render_csv(report) == "a,b,c\n1,x; y,\n"
    with pytest.raises(InputError):
        write(report, "docx", tmp_path / "x.docx")
