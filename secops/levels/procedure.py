"""What the procedure asks of a system at its level: appraisal and approval (Art. 12), dossier (Art. 15),
inspection interval (Art. 20.2.c). ``system show`` calls ``describe``; it all comes from the regime file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from secops.i18n import pick
from secops.levels.rules import load_regime
from secops.models.system import System

_NOT_DETERMINED = {
    "vi": "Chưa xác định được cấp độ: hãy xác định cấp độ trước (secops level classify)",
    "en": "Level not determined yet: classify the system first (secops level classify)",
}


def describe(system: System, lang: str, catalogs: Sequence[Path] = ()) -> dict[str, Any]:
    """Appraisal, approval, dossier items and inspection interval at the system's effective level.

    The effective level is the approved level where there is one, else the proposed level.
    """
    regime = load_regime(system.regime or "decree85", catalogs)
    level = system.effective_level
    authority = regime.authority(level) if level is not None else None
    recorded = system.dossier or {}
    dossier = []
    for item, required in regime.dossier_for(level):
        value = recorded.get(item.id)
        dossier.append(
            {
                "id": item.id,
                "title": pick(item.title.as_dict(), lang),
                "basis": pick(item.basis.as_dict(), lang),
                "required": required,
                "present": item.id in recorded,
                "ref": None if value is None or value is True else str(value),
            }
        )
    return {
        "level": level,
        "level_source": None if level is None else (
            "approved" if system.approved_level is not None else "proposed"),
        "regime": regime.regime,
        "appraisal": pick(authority.appraisal.as_dict() if authority else _NOT_DETERMINED, lang),
        "approval": pick(authority.approval.as_dict() if authority else _NOT_DETERMINED, lang),
        "basis": pick(authority.basis.as_dict(), lang) if authority else None,
        "dossier": dossier,
        "inspection_interval_months": regime.inspection_interval(level),
    }
