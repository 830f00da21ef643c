"""Playbooks as data: phases → steps with owner role, due offset, checklist, evidence and conditions.

Files are validated at load (pydantic); an error names the file, the line and the reason. Opening an
incident with a playbook creates one task per step (steps whose condition does not hold yet are kept as
``not_applicable`` and come alive when the condition is recorded later).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlmodel import Session

from secops.errors import InputError, NotFoundError
from secops.incidents.vocab import CATEGORIES, FLAGS, ROLES, Offset, parse_duration
from secops.models.incident import Incident, IncidentTask
from secops.resources import data_dir
from secops.yamlfile import validate_file

PHASES = ("triage", "containment", "eradication", "recovery", "closure")
ANCHORS = ("detected", "opened", "triage", "containment", "eradication", "recovery", "closed")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class Text(BaseModel):
    model_config = ConfigDict(extra="forbid")
    vi: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def as_dict(self) -> dict[str, str]:
        return {"vi": self.vi, "en": self.en}


class Due(BaseModel):
    """``{after: triage, offset: 4h}`` = due 4 hours after the incident first entered triage."""

    model_config = ConfigDict(extra="forbid")
    after: Literal["detected", "opened", "triage", "containment", "eradication", "recovery", "closed"]
    offset: Offset

    @property
    def minutes(self) -> int:
        return parse_duration(self.offset)


class Condition(BaseModel):
    """All given parts must hold: every flag recorded, a system at or above the level, the category."""

    model_config = ConfigDict(extra="forbid")
    flags: list[str] = []
    level_at_least: int | None = Field(default=None, ge=1, le=5)
    categories: list[str] = []

    @field_validator("flags")
    @classmethod
    def _flags(cls, value: list[str]) -> list[str]:
        bad = [f for f in value if f not in FLAGS]
        if bad:
            raise ValueError(f"unknown flag {bad[0]!r}; use one of: {', '.join(FLAGS)}")
        return value

    @field_validator("categories")
    @classmethod
    def _cats(cls, value: list[str]) -> list[str]:
        bad = [c for c in value if c not in CATEGORIES]
        if bad:
            raise ValueError(f"unknown category {bad[0]!r}; use one of: {', '.join(CATEGORIES)}")
        return value

    def holds(self, flags: dict[str, Any], max_level: int | None, category: str) -> bool:
        if any(f not in flags for f in self.flags):
            return False
        if self.level_at_least is not None and (max_level or 0) < self.level_at_least:
            return False
        return not self.categories or category in self.categories


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    title: Text
    owner: str
    due: Due | None = None
    mandatory: bool = True
    checklist: list[Text] = []
    evidence: list[Text] = []  # evidence required to close the step
    when: Condition | None = None
    csf: str | None = None  # NIST CSF 2.0 category, e.g. RS.MI

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("step id must be snake_case (a-z, 0-9, _)")
        return value

    @field_validator("owner")
    @classmethod
    def _owner(cls, value: str) -> str:
        if value not in ROLES:
            raise ValueError(f"unknown owner role {value!r}; use one of: {', '.join(ROLES)}")
        return value


class Phase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: Literal["triage", "containment", "eradication", "recovery", "closure"]
    steps: list[Step] = Field(min_length=1)


class Playbook(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    version: str = "1"
    title: Text
    description: Text | None = None
    categories: list[str] = Field(min_length=1)
    phases: list[Phase] = Field(min_length=1)
    source: str | None = None  # the file it came from (filled at load)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("playbook id must be snake_case (a-z, 0-9, _)")
        return value

    @field_validator("categories")
    @classmethod
    def _cats(cls, value: list[str]) -> list[str]:
        return Condition._cats(value)

    @model_validator(mode="after")
    def _unique_steps(self) -> Playbook:
        seen: set[str] = set()
        order = [p.id for p in self.phases]
        if order != sorted(order, key=PHASES.index) or len(set(order)) != len(order):
            raise ValueError(f"phases must appear once each, in the order {', '.join(PHASES)}")
        for phase in self.phases:
            for step in phase.steps:
                if step.id in seen:
                    raise ValueError(f"duplicate step id {step.id!r}")
                seen.add(step.id)
        return self

    def steps(self) -> list[tuple[str, Step]]:
        return [(phase.id, step) for phase in self.phases for step in phase.steps]


def load_playbook(path: Path) -> Playbook:
    book = validate_file(path, Playbook)
    if book.id != path.stem:
        raise InputError(f"{path}:1: id {book.id!r} must match the file name {path.stem!r}")
    book.source = str(path)
    return book


def playbook_dirs(catalogs: tuple[Path, ...] = ()) -> list[Path]:
    """Shipped playbooks first, then ``<catalog>/playbooks`` of each user catalog (which may override)."""
    dirs = [data_dir("playbooks")]
    dirs += [c / "playbooks" for c in catalogs if (c / "playbooks").is_dir()]
    return dirs


def load_all(catalogs: tuple[Path, ...] = ()) -> dict[str, Playbook]:
    books: dict[str, Playbook] = {}
    for directory in playbook_dirs(catalogs):
        for path in sorted(directory.glob("*.yaml")):
            book = load_playbook(path)
            books[book.id] = book
    return books


def get_playbook(pid: str, catalogs: tuple[Path, ...] = ()) -> Playbook:
    books = load_all(catalogs)
    if pid not in books:
        raise NotFoundError(f"no playbook {pid!r}; known: {', '.join(sorted(books))}")
    return books[pid]


def default_for(category: str, catalogs: tuple[Path, ...] = ()) -> Playbook | None:
    """The playbook whose first category is ``category``, else the first (by id) that lists it."""
    ranked = sorted(load_all(catalogs).values(), key=lambda b: (b.categories[0] != category, b.id))
    return next((b for b in ranked if category in b.categories), None)


def instantiate(
    session: Session, incident: Incident, book: Playbook, max_level: int | None
) -> list[IncidentTask]:
    """Create the incident's tasks from ``book``; conditional steps start ``not_applicable`` when unmet."""
    assert incident.id is not None
    tasks = []
    for number, (phase, step) in enumerate(book.steps(), start=1):
        applies = step.when is None or step.when.holds(incident.flags, max_level, incident.category)
        task = IncidentTask(
            incident_id=incident.id,
            number=number,
            step_id=step.id,
            phase=phase,
            title=step.title.as_dict(),
            owner_role=step.owner,
            due_after=step.due.after if step.due else None,
            due_offset_minutes=step.due.minutes if step.due else None,
            mandatory=step.mandatory,
            condition=step.when.model_dump(exclude_defaults=True) if step.when else None,
            checklist=[c.as_dict() for c in step.checklist],
            evidence_required=[e.as_dict() for e in step.evidence],
            status="open" if applies else "not_applicable",
        )
        session.add(task)
        tasks.append(task)
    return tasks


def anchor_time(incident: Incident, anchor: str | None) -> datetime | None:
    """When the event a due offset counts from happened (None while it has not happened)."""
    if anchor is None:
        return None
    if anchor == "detected":
        return incident.detected_at
    if anchor == "opened":
        return incident.opened_at
    when = incident.phase_times.get(anchor)
    return datetime.fromisoformat(when) if when else None


def task_due(incident: Incident, task: IncidentTask) -> datetime | None:
    start = anchor_time(incident, task.due_after)
    if start is None or task.due_offset_minutes is None:
        return None
    return start + timedelta(minutes=task.due_offset_minutes)


def condition_holds(task: IncidentTask, incident: Incident, max_level: int | None) -> bool:
    if not task.condition:
        return True
    return Condition.model_validate(task.condition).holds(incident.flags, max_level, incident.category)
