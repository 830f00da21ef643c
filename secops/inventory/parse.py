"""Read inventory files (YAML/JSON, CSV, XLSX) into raw entries that know their file and line or row.

Readers never stop at the first problem: they return what they could read plus every problem found, so one
import reports all of them at once.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import yaml

from secops.errors import Location
from secops.i18n import _
from secops.inventory.flat import COLUMNS, unflatten
from secops.inventory.problems import LineDict, LineList, Problem, RawEntry
from secops.inventory.schema import KINDS, PASSWORD_KEYS

YAML_SUFFIXES = (".yaml", ".yml", ".json")
CSV_KIND = re.compile(r"^(agencies|systems|hosts|scopes)[^/]*\.csv$", re.IGNORECASE)
Result = tuple[list[RawEntry], list[Problem]]


_SafeBase: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml is ~10x faster


class _LineLoader(_SafeBase):  # type: ignore[valid-type,misc]
    """A SafeLoader whose mappings and sequences record line numbers, and which refuses duplicate keys."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    mapping = LineDict()
    mapping.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) or key is None:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark, "found an unusable key", key_node.start_mark
            )
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                f"found duplicate key {key!r}",
                key_node.start_mark,
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.lines[key] = key_node.start_mark.line + 1
    return mapping


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    items = LineList(loader.construct_object(child, deep=True) for child in node.value)
    items.line = node.start_mark.line + 1
    items.lines = [child.start_mark.line + 1 for child in node.value]
    return items


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def _problem(file: str, line: int | None, message: str, order: int, sheet: str | None = None) -> Problem:
    return Problem(Location(file, line, sheet), message, order)


def _decode(data: bytes, file: str, order: int) -> tuple[str | None, list[Problem]]:
    """UTF-8 text (a BOM is dropped), or a problem naming the line and byte offset of the first bad byte."""
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        offset = exc.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
        line = data[:offset].count(b"\n") + 1
        message = _(
            "not UTF-8 text (invalid byte 0x{byte:02x} at byte offset {offset}); save the file as UTF-8"
        )
        return None, [_problem(file, line, message.format(byte=data[offset], offset=offset), order)]


def read_yaml(data: bytes, file: str, order: int = 0) -> Result:
    """Read the contract's YAML (or the same document as JSON)."""
    text, problems = _decode(data, file, order)
    if text is None:
        return [], problems
    try:
        doc = yaml.load(text, Loader=_LineLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = " ".join(part for part in (exc.context, exc.problem) if part)
        line = mark.line + 1 if mark is not None else None
        return [], [_problem(file, line, _("YAML syntax error: {reason}").format(reason=reason), order)]
    except yaml.YAMLError as exc:
        return [], [_problem(file, None, _("YAML syntax error: {reason}").format(reason=exc), order)]
    if doc is None:
        return [], []
    if not isinstance(doc, LineDict):
        return [], [
            _problem(
                file, 1, _("the top level must be a mapping with agencies, systems, hosts and scopes"), order
            )
        ]
    entries: list[RawEntry] = []
    for kind, items in doc.items():
        line = doc.lines[kind]
        if kind not in KINDS:
            problems.append(
                _problem(
                    file,
                    line,
                    _("unknown section {name!r}: use agencies, systems, hosts or scopes").format(name=kind),
                    order,
                )
            )
            continue
        if items is None:
            continue
        if not isinstance(items, LineList):
            problems.append(_problem(file, line, _("{kind} must be a list").format(kind=kind), order))
            continue
        for index, item in enumerate(items):
            if not isinstance(item, LineDict):
                problems.append(
                    _problem(
                        file,
                        items.lines[index],
                        _("each entry of {kind} must be a mapping").format(kind=kind),
                        order,
                    )
                )
                continue
            entries.append(RawEntry(kind, item, file, item.line, order=order))
    return entries, problems


def _header(columns: list[str], kind: str, file: str, order: int, sheet: str | None = None) -> list[Problem]:
    """Problems with a CSV/XLSX header row: unknown, repeated or password columns."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for column in columns:
        if column in PASSWORD_KEYS:
            problems.append(_problem(file, 1, password_message(column), order, sheet))
        elif column not in COLUMNS[kind]:
            message = _("unknown column {name!r} for {kind} (allowed: {allowed})")
            problems.append(
                _problem(
                    file,
                    1,
                    message.format(name=column, kind=kind, allowed=", ".join(COLUMNS[kind])),
                    order,
                    sheet,
                )
            )
        elif column in seen:
            problems.append(
                _problem(file, 1, _("column {name!r} appears twice").format(name=column), order, sheet)
            )
        seen.add(column)
    return problems


def password_message(key: str) -> str:
    return _(
        "field {name!r} refused: secops never stores passwords; give an SSH key path (ssh.key) or use "
        "the SSH agent"
    ).format(name=key)


def csv_kind(path: Path) -> str | None:
    match = CSV_KIND.match(path.name)
    return match.group(1).lower() if match else None


def read_csv(data: bytes, file: str, kind: str, order: int = 0) -> Result:
    """Read one CSV file of one kind; the first row names the columns."""
    text, problems = _decode(data, file, order)
    if text is None:
        return [], problems
    reader = csv.reader(io.StringIO(text, newline=""))
    entries: list[RawEntry] = []
    try:
        header = next(reader, None)
        if header is None:
            return [], []
        columns = [h.strip().lower() for h in header]
        problems = _header(columns, kind, file, order)
        if problems:
            return [], problems
        previous = reader.line_num
        for record in reader:
            line, previous = previous + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(record) > len(columns):
                message = _("this row has {cells} cells but the header has {columns} columns")
                problems.append(
                    _problem(file, line, message.format(cells=len(record), columns=len(columns)), order)
                )
                continue
            entries.append(
                RawEntry(kind, unflatten(dict(zip(columns, record, strict=False))), file, line, order=order)
            )
    except csv.Error as exc:
        problems.append(_problem(file, reader.line_num, _("CSV error: {reason}").format(reason=exc), order))
    return entries, problems


def read_xlsx(path: Path, file: str, order: int = 0) -> Result:
    """Read a workbook with one sheet per kind (agencies, systems, hosts, scopes)."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as exc:
        return [], [
            _problem(file, None, _("not a readable XLSX workbook: {reason}").format(reason=exc), order)
        ]
    entries: list[RawEntry] = []
    problems: list[Problem] = []
    for sheet in workbook.worksheets:
        kind = sheet.title.strip().lower()
        if kind not in KINDS:
            message = _("unknown sheet {name!r}: name sheets agencies, systems, hosts or scopes")
            problems.append(_problem(file, 1, message.format(name=sheet.title), order, sheet.title))
            continue
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            continue
        columns = ["" if h is None else str(h).strip().lower() for h in header]
        while columns and not columns[-1]:
            columns.pop()
        header_problems = _header(columns, kind, file, order, sheet.title)
        if header_problems:
            problems.extend(header_problems)
            continue
        for number, values in enumerate(rows, start=2):
            cells = list(values)
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in cells):
                continue
            if any(v is not None and str(v).strip() for v in cells[len(columns) :]):
                message = _("a value lies outside the named columns (the header has {columns} columns)")
                problems.append(
                    _problem(file, number, message.format(columns=len(columns)), order, sheet.title)
                )
                continue
            row: dict[str, Any] = dict(zip(columns, cells, strict=False))
            entries.append(RawEntry(kind, unflatten(row), file, number, sheet.title, order))
    workbook.close()
    return entries, problems


def expand(paths: list[Path]) -> list[Path]:
    """Directories stand for the inventory files directly inside them (sorted)."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(
                sorted(
                    p
                    for p in path.iterdir()
                    if p.is_file() and p.suffix.lower() in (*YAML_SUFFIXES, ".csv", ".xlsx")
                )
            )
        else:
            out.append(path)
    return out


def read_files(paths: list[Path], kind: str | None = None) -> Result:
    """Read every file; ``kind`` forces the kind of CSV files (otherwise taken from the file name)."""
    entries: list[RawEntry] = []
    problems: list[Problem] = []
    for order, path in enumerate(expand(paths)):
        file = str(path)
        suffix = path.suffix.lower()
        try:
            data = b"" if suffix == ".xlsx" else path.read_bytes()
        except OSError as exc:
            problems.append(
                _problem(file, None, _("cannot read: {reason}").format(reason=exc.strerror), order)
            )
            continue
        if suffix in YAML_SUFFIXES:
            got = read_yaml(data, file, order)
        elif suffix == ".csv":
            csv_of = kind or csv_kind(path)
            if csv_of is None:
                message = _(
                    "cannot tell what this CSV holds: name it agencies*.csv, systems*.csv, hosts*.csv or "
                    "scopes*.csv, or pass --kind"
                )
                problems.append(_problem(file, None, message, order))
                continue
            got = read_csv(data, file, csv_of, order)
        elif suffix == ".xlsx":
            got = read_xlsx(path, file, order)
        else:
            message = _("unsupported file type {suffix!r}: use .yaml, .yml, .json, .csv or .xlsx")
            problems.append(_problem(file, None, message.format(suffix=suffix or path.name), order))
            continue
        entries.extend(got[0])
        problems.extend(got[1])
    return entries, problems
