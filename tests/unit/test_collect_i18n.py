"""The collection feature's Vietnamese catalog is complete and keeps every placeholder."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from babel.messages.pofile import read_po

from secops.collect.errors import _LABELS, ERROR_KINDS, describe_kind
from secops.i18n import current_language, set_language

ROOT = Path(__file__).resolve().parents[2]


def _msgids(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "_" and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.add(arg.value)
    return found


def test_every_message_translated_with_its_placeholders() -> None:
    with (ROOT / "secops/locale/vi/LC_MESSAGES/collect.po").open("rb") as fh:
        catalog = {m.id: m.string for m in read_po(fh, locale="vi") if m.id}
    wanted = _msgids(ROOT / "secops/cli/trust.py") | _msgids(ROOT / "secops/collect/runner.py")
    wanted |= set(_LABELS.values())
    assert wanted - set(catalog) == set()
    for msgid, text in catalog.items():
        assert text, msgid
        assert set(re.findall(r"\{\w+\}", msgid)) == set(re.findall(r"\{\w+\}", text)), msgid


def test_error_kinds_have_labels() -> None:
    before = current_language()
    try:
        set_language("vi")
        assert describe_kind("host_key_changed") == "khóa máy chủ đã thay đổi"
        set_language("en")
        assert [describe_kind(k) for k in ERROR_KINDS][:2] == ["host unreachable", "authentication failed"]
        assert describe_kind(None) == "collection failed"
    finally:
        set_language(before)
