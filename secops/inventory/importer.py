"""The public import service: read files, validate everything, then upsert in the caller's transaction.

``import_files`` is what the CLI and the demo call. It is all-or-nothing: any problem raises
``InventoryError`` (exit 2) listing every problem with its ``FILE:LINE`` / ``FILE[sheet]!ROW``, before
anything is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

from sqlmodel import Session

from secops.inventory.apply import Counts, apply_plan
from secops.inventory.parse import expand, read_files
from secops.inventory.schema import KINDS
from secops.inventory.validate import validate


@dataclass
class ImportSummary:
    """What one import did (or, with ``dry_run``, would do) per kind."""

    files: list[str]
    counts: dict[str, Counts] = field(default_factory=dict)
    dry_run: bool = False

    def rows(self) -> list[dict[str, Any]]:
        return [
            {"kind": kind, "created": c.created, "updated": c.updated, "unchanged": c.unchanged}
            for kind, c in ((k, self.counts.get(k, Counts())) for k in KINDS)
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "files": self.files,
            **{row["kind"]: {k: row[k] for k in ("created", "updated", "unchanged")} for row in self.rows()},
        }

    @property
    def changed(self) -> int:
        return sum(c.created + c.updated for c in self.counts.values())


def import_files(
    session: Session,
    paths: Sequence[str | PathLike[str]],
    actor: str,
    dry_run: bool = False,
    *,
    kind: str | None = None,
) -> ImportSummary:
    """Import files as one unit. ``kind`` forces the kind of CSV files; ``dry_run`` writes nothing."""
    files = [Path(p) for p in paths]
    entries, problems = read_files(files, kind)
    plan = validate(session, entries, problems)
    summary = ImportSummary(files=[str(p) for p in expand(files)], dry_run=dry_run)
    if dry_run:
        savepoint = session.begin_nested()
        try:
            summary.counts = apply_plan(session, plan, actor)
        finally:
            savepoint.rollback()
    else:
        summary.counts = apply_plan(session, plan, actor)
    return summary
