"""Legal reporting clocks as data (``playbooks/deadlines/*.yaml``), evaluated for one incident.

Every clock runs from the incident's own event time (discovery, the end of the response, the moment a
condition was recorded), never from data entry. A report recorded as sent stops its clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from secops.incidents.playbooks import Condition, Text
from secops.incidents.vocab import FLAGS, STATUSES, Offset, parse_duration
from secops.models.incident import Incident, IncidentReport
from secops.resources import data_dir
from secops.timeutil import DEFAULT_TZ, as_utc, local
from secops.yamlfile import validate_file

_KIND = re.compile(r"^[a-z][a-z0-9_]*$")
OPEN_STATES = ("open", "overdue")


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str
    title: Text
    recipients: Text
    trigger: str  # detected | opened | <status> | flag:<flag>
    offset: Offset
    when: Condition | None = None
    source: str

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if not _KIND.match(value):
            raise ValueError("kind must be snake_case")
        return value

    @field_validator("trigger")
    @classmethod
    def _trigger(cls, value: str) -> str:
        ok = value in ("detected", "opened", *STATUSES[1:]) or (
            value.startswith("flag:") and value.removeprefix("flag:") in FLAGS
        )
        if not ok:
            raise ValueError(f"unknown trigger {value!r}: use detected, opened, a status or flag:<flag>")
        return value



class RuleSet(BaseModel):
    model_config = ConfigDict(extra="forbid")
    regime: str
    title: Text
    deadlines: list[Rule] = Field(min_length=1)

    @field_validator("deadlines")
    @classmethod
    def _unique(cls, value: list[Rule]) -> list[Rule]:
        kinds = [r.kind for r in value]
        dup = next((k for k in kinds if kinds.count(k) > 1), None)
        if dup:
            raise ValueError(f"duplicate deadline kind {dup!r}")
        return value


def rules_path() -> Path:
    return data_dir("playbooks") / "deadlines" / "circular20.yaml"


@cache
def _load(path: str) -> RuleSet:
    return validate_file(Path(path), RuleSet)


def load_rules(path: Path | None = None) -> RuleSet:
    return _load(str(path or rules_path()))


def kinds() -> list[str]:
    return [r.kind for r in load_rules().deadlines]


@dataclass(frozen=True)
class DeadlineState:
    kind: str
    title: dict[str, str]
    recipients: dict[str, str]
    due: datetime | None
    status: str  # not_applicable | waiting | open | overdue | sent | sent_late
    sent_at: datetime | None
    ref: str | None
    source: str

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "title": self.title,
            "due": self.due.isoformat() if self.due else None,
            "status": self.status,
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
            "ref": self.ref,
        }


def trigger_time(incident: Incident, trigger: str) -> datetime | None:
    if trigger == "detected":
        return incident.detected_at
    if trigger == "opened":
        return incident.opened_at
    if trigger == "closed":  # the response ended (the latest close, cleared on reopen)
        return incident.closed_at
    if trigger.startswith("flag:"):
        value = incident.flags.get(trigger.removeprefix("flag:"))
    else:
        value = incident.phase_times.get(trigger)
    return datetime.fromisoformat(value) if value else None


def add_offset(start: datetime, minutes: int, tz: str = DEFAULT_TZ) -> datetime:
    """Count the offset on the local wall clock (days are local calendar days), then store UTC."""
    return as_utc(local(start, tz).replace(tzinfo=None) + timedelta(minutes=minutes), tz)


def evaluate(
    incident: Incident,
    reports: list[IncidentReport],
    now: datetime,
    max_level: int | None,
    rules: RuleSet | None = None,
) -> list[DeadlineState]:
    """The state of every legal clock of ``incident`` at ``now``."""
    rules = rules or load_rules()
    states = []
    void = incident.status == "closed" and incident.resolution in ("false_positive", "duplicate")
    for rule in rules.deadlines:
        sent = sorted((r for r in reports if r.kind == rule.kind), key=lambda r: r.sent_at)
        first = sent[0] if sent else None
        start = trigger_time(incident, rule.trigger)
        due = add_offset(start, parse_duration(rule.offset)) if start else None
        applies = rule.when is None or rule.when.holds(incident.flags, max_level, incident.category)
        if first is not None:
            status = "sent_late" if due is not None and first.sent_at > due else "sent"
        elif not applies or void:
            status, due = "not_applicable", None
        elif due is None:
            status = "waiting"
        else:
            status = "overdue" if now > due else "open"
        states.append(
            DeadlineState(
                rule.kind,
                rule.title.as_dict(),
                rule.recipients.as_dict(),
                due,
                status,
                first.sent_at if first else None,
                first.ref if first else None,
                rule.source,
            )
        )
    return states
