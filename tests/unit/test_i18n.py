"""The Vietnamese catalogs: one translation per message id across every feature's .po file."""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po

from secops import i18n

LOCALE = Path(i18n.__file__).parent / "locale" / "vi" / "LC_MESSAGES"


def test_no_message_id_has_two_vietnamese_translations() -> None:
    seen: dict[str, tuple[str, str]] = {}
    clashes = []
    for path in sorted(LOCALE.glob("*.po")):
        with path.open("rb") as fh:
            for msg in read_po(fh, locale="vi"):
                if not msg.id or not msg.string:
                    continue
                if msg.id in seen and seen[msg.id][1] != msg.string:
                    clashes.append((msg.id, seen[msg.id], (path.name, msg.string)))
                seen[str(msg.id)] = (path.name, str(msg.string))
    assert clashes == []


def test_vietnamese_is_used_and_english_falls_back() -> None:
    i18n.set_language("vi")
    try:
        assert i18n._("Data directory: {path}") == "Thư mục dữ liệu: {path}"
        assert i18n._("no such message id") == "no such message id"
        assert i18n.pick({"vi": "Cấp độ", "en": "Level"}) == "Cấp độ"
        assert i18n.pick({"en": "Level"}) == "Level"
    finally:
        i18n.set_language("en")
    assert i18n._("Data directory: {path}") == "Data directory: {path}"
