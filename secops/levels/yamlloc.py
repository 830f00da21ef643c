"""YAML with line numbers: map a validation error's path back to the line of the file it came from."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from secops.errors import InputError


def load_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    """Parse ``path`` into plain data and its node tree (the tree keeps every line number)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise InputError(f"{path}:{line}: invalid YAML: {exc.problem or exc.context}") from None
    return data, root


def line_of(root: yaml.Node | None, loc: Sequence[Any]) -> int:
    """The 1-based line of the deepest entry along ``loc`` (a pydantic error location); a mapping entry is
    located at its key, so a missing field points at the line of the mapping that lacks it."""
    node = root
    line = node.start_mark.line + 1 if node is not None else 1
    for part in loc:
        found = _child(node, part)
        if found is None:
            break
        node, mark = found
        line = mark.line + 1
    return line


def _child(node: yaml.Node | None, part: Any) -> tuple[yaml.Node, yaml.Mark] | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if str(key.value) == str(part):
                return value, key.start_mark
    elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        child: yaml.Node = node.value[part]
        return child, child.start_mark
    return None
