"""Read a YAML data file and remember the line of every value, so validation errors can say ``FILE:LINE``.

The one reader for every data file we validate (check catalog, level rules, playbooks, deadlines)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from secops.errors import InputError

Loc = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: much faster


class YamlDoc:
    """A parsed YAML document plus a map from value path (keys and indexes) to 1-based line number."""

    def __init__(self, path: Path, data: Any, lines: dict[Loc, int]) -> None:
        self.path, self.data, self.lines = path, data, lines

    def line(self, loc: Sequence[str | int]) -> int:
        """Line of the deepest known prefix of ``loc`` (pydantic error locations can go deeper than YAML)."""
        parts = tuple(loc)
        while parts:
            if parts in self.lines:
                return self.lines[parts]
            parts = parts[:-1]
        return self.lines.get((), 1)

    def where(self, loc: Sequence[str | int]) -> str:
        return f"{self.path}:{self.line(loc)}"

    def error(self, loc: Sequence[str | int], reason: str) -> InputError:
        return InputError(f"{self.where(loc)}: {reason}")


def _walk(node: yaml.Node, loc: Loc, lines: dict[Loc, int]) -> None:
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            _walk(value_node, (*loc, key), lines)
            lines[(*loc, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*loc, index), lines)


def read_yaml(path: Path) -> YamlDoc:
    """Parse ``path`` safely; a syntax error becomes an ``InputError`` naming the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from exc
    try:
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.SafeLoader("").construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise InputError(f"{path}{line}: invalid YAML: {exc.problem or exc}") from exc
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: invalid YAML: {exc}") from exc
    lines: dict[Loc, int] = {}
    if node is not None:
        _walk(node, (), lines)
    return YamlDoc(path, data, lines)


def validate(doc: YamlDoc, model: type[M], *, context: dict[str, Any] | None = None) -> M:
    """Validate the whole document against ``model``; the first error names file, line and reason."""
    try:
        return model.model_validate(doc.data if doc.data is not None else {}, context=context)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = [p for p in first["loc"] if isinstance(p, str | int)]
        field = ".".join(str(p) for p in loc) or "(document)"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise doc.error(loc, f"{field}: {first['msg']}{more}") from exc


def validate_file(path: Path, model: type[M], *, context: dict[str, Any] | None = None) -> M:
    """Read and validate ``path`` in one step."""
    return validate(read_yaml(path), model, context=context)
