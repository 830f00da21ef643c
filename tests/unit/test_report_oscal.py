"""OSCAL assessment-results: the official NIST schema (shipped in tests/fixtures/oscal) and stable ids."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import regex
from jsonschema import Draft7Validator, FormatChecker, ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import extend

from secops.reporting.oscal import stable_uuid

SCHEMA = Path(__file__).resolve().parent.parent / "fixtures" / "oscal" / "oscal_assessment-results_schema.json"


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    """OSCAL patterns use Unicode classes (``\\p{L}``) that Python's ``re`` lacks; ``regex`` has them."""
    if validator.is_type(instance, "string") and not regex.search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@cache
def _validator() -> Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    cls = extend(Draft7Validator, {"pattern": _pattern})
    return cls(schema, format_checker=FormatChecker())


def errors(doc: dict[str, Any]) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in _validator().iter_errors(doc)]


def validate_oscal(doc: dict[str, Any]) -> None:
    found = errors(doc)
    assert found == [], found[:5]


def _minimal() -> dict[str, Any]:
    return {
        "assessment-results": {
            "uuid": stable_uuid("run", 1, "assessment-results"),
            "metadata": {
                "title": "t",
                "last-modified": "2026-11-27T03:00:00Z",
                "version": "1",
                "oscal-version": "1.0.4",
            },
            "import-ap": {"href": "#x"},
            "results": [
                {
                    "uuid": stable_uuid("run", 1, "result"),
                    "title": "r",
                    "description": "d",
                    "start": "2026-11-27T03:00:00Z",
                    "reviewed-controls": {"control-selections": [{"include-all": {}}]},
                    "findings": [
                        {
                            "uuid": stable_uuid("f"),
                            "title": "ND85-16",
                            "description": "d",
                            "target": {
                                "type": "objective-id",
                                "target-id": "ND85-16",
                                "status": {"state": "satisfied"},
                            },
                        }
                    ],
                }
            ],
        }
    }


def test_schema_accepts_a_minimal_document_and_rejects_broken_ones() -> None:
    validate_oscal(_minimal())
    bad = _minimal()
    bad["assessment-results"]["results"][0]["findings"][0]["target"]["status"]["state"] = "passed"
    assert any("is not one of ['satisfied', 'not-satisfied']" in e for e in errors(bad))
    bad = _minimal()
    bad["assessment-results"]["results"][0]["findings"][0]["target"]["target-id"] = "has space"
    assert any("does not match" in e for e in errors(bad))
    bad = _minimal()
    del bad["assessment-results"]["import-ap"]
    assert any("'import-ap' is a required property" in e for e in errors(bad))
    bad = _minimal()
    bad["assessment-results"]["metadata"]["last-modified"] = "27/11/2026"
    assert errors(bad)


def test_stable_uuids_are_version_5_and_deterministic() -> None:
    a = stable_uuid("run", 7, "requirement", "ND85-16", "host", "web-01", "finding")
    assert a == stable_uuid("run", 7, "requirement", "ND85-16", "host", "web-01", "finding")
    assert a != stable_uuid("run", 8, "requirement", "ND85-16", "host", "web-01", "finding")
    assert a[14] == "5"
