"""Tables of the netscan feature (filled in by that feature)."""

from __future__ import annotations
