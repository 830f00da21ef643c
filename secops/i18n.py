"""User-facing text: gettext catalogs (Babel .po files under ``secops/locale``), English as the fallback.

Message ids are English. Data files (rules, checks, playbooks) carry their own ``{vi, en}`` texts; ``pick``
chooses one. The active language is process-wide, set once by the CLI from ``--lang``/SECOPS_LANG.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
_state = {"lang": "vi"}


@cache
def _catalog(lang: str) -> dict[str, str]:
    """Merge every ``*.po`` of the language (one file per feature keeps translators out of each other's way)."""
    merged: dict[str, str] = {}
    for path in sorted((LOCALE_DIR / lang / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=lang)
        merged.update({str(m.id): str(m.string) for m in catalog if m.id and m.string and not m.fuzzy})
    return merged


def set_language(lang: str) -> None:
    _state["lang"] = lang


def current_language() -> str:
    return _state["lang"]


def gettext(message: str) -> str:
    """Translate ``message`` into the active language (unchanged in English or when untranslated)."""
    return _catalog(_state["lang"]).get(message, message)


_ = gettext


def pick(texts: Mapping[str, str] | str | None, lang: str | None = None) -> str:
    """Choose the text for ``lang`` from a ``{vi, en}`` mapping, falling back to English, then anything."""
    if texts is None:
        return ""
    if isinstance(texts, str):
        return texts
    lang = lang or _state["lang"]
    return texts.get(lang) or texts.get("en") or next(iter(texts.values()), "")
