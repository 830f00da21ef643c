"""The compliance catalog: requirement frameworks per legal regime, fact definitions and checks (data)."""

from secops.catalog.loader import DEFAULT_REGIME, Catalog, clear_cache, load_catalog
from secops.catalog.schema import (
    SEVERITIES,
    SEVERITY_RANK,
    STATUSES,
    AppliesTo,
    Check,
    FactDef,
    Framework,
    Param,
    Requirement,
    Rule,
    Sample,
    Text,
)

__all__ = [
    "DEFAULT_REGIME",
    "SEVERITIES",
    "SEVERITY_RANK",
    "STATUSES",
    "AppliesTo",
    "Catalog",
    "Check",
    "FactDef",
    "Framework",
    "Param",
    "Requirement",
    "Rule",
    "Sample",
    "Text",
    "clear_cache",
    "load_catalog",
]
