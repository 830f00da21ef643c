"""The one JSON encoding of user-facing output: stable keys, readable Vietnamese, ISO 8601 dates."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def to_json(data: Any) -> str:
    """Indented JSON without \\u escapes; dates as ISO 8601, sets as lists, anything else as text."""
    return json.dumps(data, ensure_ascii=False, indent=2, default=_default)
