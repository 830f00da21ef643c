"""Raw entries as read from a file, the problems found in them, and the error that carries them all."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from secops.errors import InputError, Location
from secops.i18n import _


class LineDict(dict[Any, Any]):
    """A YAML mapping that remembers its own line and the line of each key (1-based)."""

    line: int = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lines: dict[Any, int] = {}


class LineList(list[Any]):
    """A YAML sequence that remembers the line of each item (1-based)."""

    line: int = 0

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.lines: list[int] = []


@dataclass
class RawEntry:
    """One entry of one kind, before validation, with where it came from."""

    kind: str
    data: dict[str, Any]
    file: str
    line: int | None
    sheet: str | None = None
    order: int = 0  # position of its file in the import, for sorting problems

    def location(self, path: tuple[Any, ...] = ()) -> Location:
        """The most precise location of ``path`` (a pydantic ``loc``) inside this entry."""
        line = self.line
        node: Any = self.data
        for key in path:
            if (isinstance(node, LineDict) and key in node.lines) or (
                isinstance(node, LineList) and isinstance(key, int) and 0 <= key < len(node.lines)
            ):
                line = node.lines[key]
                node = node[key]
            else:
                break
        return Location(self.file, line, self.sheet)


@dataclass(frozen=True)
class Problem:
    location: Location
    message: str
    order: int = 0

    def sort_key(self) -> tuple[int, str, int]:
        loc = self.location
        return (self.order, loc.sheet or "", loc.line or 0)

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class InventoryError(InputError):
    """Every problem found in one import (nothing was written); the CLI prints them all, one per line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=Problem.sort_key)
        head = _("{count} problem(s) in the inventory; nothing was written:").format(count=len(self.problems))
        super().__init__("\n".join([head, *(f"  {p}" for p in self.problems)]))
