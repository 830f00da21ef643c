"""Observables (validation, extraction from notes) and the STIX 2.1 bundle, checked by the OASIS validator."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from stix2validator import ValidationOptions, validate_string

from secops.errors import InputError
from secops.incidents import observables, stix
from secops.models.incident import Incident, Observable

AT = datetime(2026, 3, 2, 1, 2, 3, 456789, tzinfo=UTC)


def test_normalize_and_refuse() -> None:
    assert observables.normalize("ip", " 203.0.113.5 ") == "203.0.113.5"
    assert observables.normalize("ip", "2001:DB8::1") == "2001:db8::1"
    assert observables.normalize("domain", "Evil[.]Example.COM.") == "evil.example.com"
    assert observables.normalize("url", "hxxps://bad.example/x?a=1") == "https://bad.example/x?a=1"
    assert (
        observables.normalize("hash", "44D88612FEA8A8F36DE82E1278ABB02F")
        == "44d88612fea8a8f36de82e1278abb02f"
    )
    assert observables.normalize("email", "Boss@Mail.Example") == "boss@mail.example"
    for kind, value in [
        ("ip", "300.1.1.1"),
        ("domain", "localhost"),
        ("url", "javascript:alert(1)"),
        ("hash", "abc123"),
        ("email", "no-at-sign"),
        ("file", "x"),
    ]:
        with pytest.raises(InputError):
            observables.normalize(kind, value)


def test_extract_from_a_note() -> None:
    note = (
        "Beacon to 198.51.100.23 and hxxp://cdn.evil-updates[.]example/a.php, "
        "mail from ceo@evil-updates.example. "
        "Dropper sha256 E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855 "
        "wrote invoice.pdf and update.exe; C2 domain c2.bad-actor.example; also 999.1.1.1 and fe80::1."
    )
    assert observables.extract(note) == [
        ("url", "http://cdn.evil-updates.example/a.php"),
        ("email", "ceo@evil-updates.example"),
        ("ip", "198.51.100.23"),
        ("ip", "fe80::1"),
        ("hash", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("domain", "c2.bad-actor.example"),
    ]


def _objects() -> tuple[Incident, list[Observable]]:
    inc = Incident(
        id=1,
        code="SC-2026-0007",
        title="Mã hóa dữ liệu cổng dịch vụ công",
        category="ransomware",
        detected_at=AT,
        detected_by="ids",
        opened_by="a",
        opened_at=AT,
        tlp="amber",
        detail="Files encrypted",
        flags={},
        phase_times={},
    )
    values = [
        ("ip", "203.0.113.5", "green"),
        ("ip", "2001:db8::5", "amber"),
        ("domain", "evil.example", "clear"),
        ("url", "http://evil.example/it's", "amber+strict"),
        ("email", "x@evil.example", "red"),
        ("hash", "a" * 32, "amber"),
        ("hash", "b" * 40, "amber"),
        ("hash", "c" * 64, "amber"),
    ]
    obs = [
        Observable(id=i, incident_id=1, type=t, value=v, tlp=tlp, source="manual", added_by="a", added_at=AT)
        for i, (t, v, tlp) in enumerate(values, start=1)
    ]
    return inc, obs


def test_patterns() -> None:
    _inc, obs = _objects()
    assert [stix.pattern(o) for o in obs] == [
        "[ipv4-addr:value = '203.0.113.5']",
        "[ipv6-addr:value = '2001:db8::5']",
        "[domain-name:value = 'evil.example']",
        "[url:value = 'http://evil.example/it\\'s']",
        "[email-addr:value = 'x@evil.example']",
        "[file:hashes.'MD5' = '" + "a" * 32 + "']",
        "[file:hashes.'SHA-1' = '" + "b" * 40 + "']",
        "[file:hashes.'SHA-256' = '" + "c" * 64 + "']",
    ]


def test_bundle_is_valid_stix_21_with_tlp2_markings() -> None:
    inc, obs = _objects()
    systems = [{"code": "dvc-portal", "level": 4}]
    bundle = stix.bundle(inc, obs, systems, "Sở KH&CN tỉnh", AT)
    text = json.dumps(bundle, ensure_ascii=False)
    result = validate_string(text, ValidationOptions(strict=True))
    assert result.is_valid, [str(e) for e in result.errors]
    assert result.warnings == []
    kinds = [o["type"] for o in bundle["objects"]]
    assert kinds.count("identity") == 1 and kinds.count("incident") == 1
    assert kinds.count("indicator") == 8 and kinds.count("relationship") == 8
    markings = [o for o in bundle["objects"] if o["type"] == "marking-definition"]
    assert [m["name"] for m in markings] == [
        "TLP:CLEAR",
        "TLP:GREEN",
        "TLP:AMBER",
        "TLP:AMBER+STRICT",
        "TLP:RED",
    ]
    assert markings[2]["id"] == "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
    id_re = re.compile(
        r"^[a-z][a-z0-9-]+--[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
    )
    for obj in bundle["objects"]:
        assert id_re.match(obj["id"]), obj["id"]
        for ref in obj.get("object_marking_refs", []):
            assert ref in {m["id"] for m in markings}
    incident = next(o for o in bundle["objects"] if o["type"] == "incident")
    assert incident["created"] == "2026-03-02T01:02:03.456Z"
    assert incident["name"] == "SC-2026-0007: Mã hóa dữ liệu cổng dịch vụ công"
    assert "dvc-portal (level 4)" in incident["description"]
    rel = next(o for o in bundle["objects"] if o["type"] == "relationship")
    assert rel["target_ref"] == incident["id"] and rel["relationship_type"] == "related-to"
    # The same incident exported twice keeps its object ids (receivers update instead of duplicating).
    again = stix.bundle(inc, obs, systems, "Sở KH&CN tỉnh", AT)
    assert [o["id"] for o in again["objects"]] == [o["id"] for o in bundle["objects"]]
