"""Legal clocks: arithmetic on the Asia/Ho_Chi_Minh clock, month and year ends, sent reports, conditions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from secops.errors import InputError
from secops.incidents import deadlines, stats
from secops.incidents.vocab import parse_duration
from secops.models.incident import Incident, IncidentReport
from secops.timeutil import local, parse_datetime


def _incident(detected: str, **fields: object) -> Incident:
    at = parse_datetime(detected)
    values: dict[str, object] = {
        "code": "SC-2026-0001",
        "title": "t",
        "category": "ransomware",
        "detected_at": at,
        "detected_by": "ids",
        "opened_by": "a",
        "opened_at": at + timedelta(hours=1),
        "flags": {},
        "phase_times": {},
    }
    values.update(fields)
    return Incident(**values)  # type: ignore[arg-type]


def _state(
    incident: Incident,
    kind: str,
    now: datetime,
    reports: list[IncidentReport] | None = None,
    level: int | None = 3,
) -> deadlines.DeadlineState:
    return next(s for s in deadlines.evaluate(incident, reports or [], now, level) if s.kind == kind)


@pytest.mark.parametrize(
    ("detected", "due_local"),
    [
        ("2026-03-31T23:30", "2026-04-05 23:30"),  # offset-less input is Vietnam time; crosses a month end
        ("2026-01-28T22:00", "2026-02-02 22:00"),
        ("2026-02-26T10:00", "2026-03-03 10:00"),  # February of a common year
        ("2028-02-26T10:00", "2028-03-02 10:00"),  # leap year: 29 February counts
        ("2026-12-31T20:00:00Z", "2027-01-06 03:00"),  # UTC input: already 1 January in Hanoi
        ("2026-12-27T06:59:59+07:00", "2027-01-01 06:59"),
    ],
)
def test_notification_due_five_days_after_discovery(detected: str, due_local: str) -> None:
    inc = _incident(detected)
    st = _state(inc, "notification", inc.detected_at)
    assert st.status == "open"
    assert st.due is not None and f"{local(st.due):%Y-%m-%d %H:%M}" == due_local
    assert st.due - inc.detected_at == timedelta(days=5)


def test_clock_runs_from_discovery_not_from_entry() -> None:
    inc = _incident("2026-03-01T08:00", opened_at=parse_datetime("2026-03-04T08:00"))
    st = _state(inc, "notification", parse_datetime("2026-03-06T08:00:01"))
    assert st.due == parse_datetime("2026-03-06T08:00") and st.status == "overdue"
    assert parse_datetime("2026-03-06T08:00") == datetime(2026, 3, 6, 1, 0, tzinfo=UTC)


def test_personal_data_clock_needs_the_flag_and_stops_when_sent() -> None:
    inc = _incident("2026-05-10T09:00")
    assert _state(inc, "personal_data", inc.detected_at).status == "not_applicable"
    inc.flags = {"personal_data": parse_datetime("2026-05-11T09:00").isoformat()}
    st = _state(inc, "personal_data", parse_datetime("2026-05-13T08:59"))
    assert (st.status, f"{local(st.due):%Y-%m-%d %H:%M}") == ("open", "2026-05-13 09:00")  # type: ignore[arg-type]
    assert _state(inc, "personal_data", parse_datetime("2026-05-13T09:01")).status == "overdue"
    on_time = IncidentReport(
        incident_id=1,
        kind="personal_data",
        sent_at=parse_datetime("2026-05-13T09:00"),
        recipients="A05",
        ref="12/TB",
        actor="a",
    )
    st = _state(inc, "personal_data", parse_datetime("2026-06-01T00:00"), [on_time])
    assert (st.status, st.ref) == ("sent", "12/TB")
    late = IncidentReport(
        incident_id=1,
        kind="personal_data",
        sent_at=parse_datetime("2026-05-13T09:00:01"),
        recipients="A05",
        actor="a",
    )
    assert _state(inc, "personal_data", parse_datetime("2026-06-01T00:00"), [late]).status == "sent_late"


def test_form03_is_due_immediately_once_capacity_is_exceeded() -> None:
    inc = _incident("2026-05-10T09:00")
    assert _state(inc, "form03", parse_datetime("2026-05-20T00:00")).status == "waiting"
    inc.flags = {"exceeds_capacity": parse_datetime("2026-05-10T15:00").isoformat()}
    st = _state(inc, "form03", parse_datetime("2026-05-10T15:00"))
    assert (st.status, st.due) == ("open", parse_datetime("2026-05-10T15:00"))
    assert _state(inc, "form03", parse_datetime("2026-05-10T15:01")).status == "overdue"


def test_form04_counts_from_the_end_of_the_response() -> None:
    inc = _incident("2026-06-28T09:00")
    assert _state(inc, "form04", parse_datetime("2026-07-30T00:00")).status == "waiting"
    inc.status, inc.resolution, inc.closed_at = "closed", "resolved", parse_datetime("2026-06-29T17:30")
    st = _state(inc, "form04", parse_datetime("2026-06-30T00:00"))
    assert (st.status, f"{local(st.due):%Y-%m-%d %H:%M}") == ("open", "2026-07-04 17:30")  # type: ignore[arg-type]


def test_false_positive_voids_unsent_clocks_but_keeps_sent_ones() -> None:
    inc = _incident(
        "2026-06-01T09:00",
        status="closed",
        resolution="false_positive",
        closed_at=parse_datetime("2026-06-01T10:00"),
    )
    sent = IncidentReport(
        incident_id=1,
        kind="notification",
        sent_at=parse_datetime("2026-06-01T09:30"),
        recipients="VNCERT",
        actor="a",
    )
    states = {
        s.kind: s.status for s in deadlines.evaluate(inc, [sent], parse_datetime("2026-07-01T00:00"), 3)
    }
    assert states == {
        "notification": "sent",
        "form03": "not_applicable",
        "form04": "not_applicable",
        "personal_data": "not_applicable",
    }


def test_durations_and_periods() -> None:
    assert [parse_duration(x) for x in ("30m", "4h", "5d", "72h")] == [30, 240, 7200, 4320]
    with pytest.raises(InputError, match="not a duration"):
        parse_duration("5 weeks")
    h1 = stats.parse_period("2026H1")
    assert (h1.start, h1.end) == (
        datetime(2025, 12, 31, 17, tzinfo=UTC),
        datetime(2026, 6, 30, 17, tzinfo=UTC),
    )
    q4 = stats.parse_period("2026q4")
    assert (q4.start, q4.end) == (
        datetime(2026, 9, 30, 17, tzinfo=UTC),
        datetime(2026, 12, 31, 17, tzinfo=UTC),
    )
    year = stats.parse_period("2026")
    assert (year.start, year.end) == (h1.start, datetime(2026, 12, 31, 17, tzinfo=UTC))
    month = stats.parse_period("2026-02")
    assert (month.start, month.end) == (
        datetime(2026, 1, 31, 17, tzinfo=UTC),
        datetime(2026, 2, 28, 17, tzinfo=UTC),
    )
    for bad in ("2026H3", "26Q1", "2026-13"):
        with pytest.raises(InputError):
            stats.parse_period(bad)
