"""Tables of the incident feature (filled in by that feature)."""

from __future__ import annotations
