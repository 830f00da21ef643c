"""STIX 2.1 bundle of one incident: identity, incident, indicators (from observables), relationships and the
TLP 2.0 marking definitions. Ids are ``type--UUID`` (UUIDv5 under our namespace, so a re-export of the same
incident keeps its ids and a receiving platform updates objects instead of duplicating them)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from secops.incidents.vocab import CATEGORIES
from secops.models.incident import Incident, Observable

NAMESPACE = uuid.UUID("6f1c5a1e-5d0e-4b7a-9d3e-2f6c9b1d7a10")
TLP_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
# The fixed TLP 2.0 marking definitions published with the OASIS TLP 2.0 extension.
TLP_IDS = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
IDENTITY_CREATED = "2017-11-01T00:00:00.000Z"  # Circular 20/2017 in force
_HASH_NAMES = {32: "MD5", 40: "SHA-1", 64: "SHA-256", 128: "SHA-512"}


def ts(value: datetime) -> str:
    """STIX timestamp: UTC, millisecond precision, ``Z``."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def sid(kind: str, *parts: str) -> str:
    """A stable id: the bits of a UUIDv5 of the name, stamped as version 4 (STIX asks SDOs for v4 ids)."""
    return f"{kind}--{uuid.UUID(bytes=uuid.uuid5(NAMESPACE, '/'.join((kind, *parts))).bytes, version=4)}"


def _literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def pattern(obs: Observable) -> str:
    """The STIX pattern that matches an observable."""
    value = _literal(obs.value)
    if obs.type == "ip":
        kind = "ipv6-addr" if ":" in obs.value else "ipv4-addr"
        return f"[{kind}:value = {value}]"
    if obs.type == "domain":
        return f"[domain-name:value = {value}]"
    if obs.type == "url":
        return f"[url:value = {value}]"
    if obs.type == "email":
        return f"[email-addr:value = {value}]"
    return f"[file:hashes.'{_HASH_NAMES[len(obs.value)]}' = {value}]"


def marking(tlp: str) -> dict[str, Any]:
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP_IDS[tlp],
        "created": "2022-10-01T00:00:00.000Z",
        "name": f"TLP:{tlp.upper()}",
        "extensions": {TLP_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": tlp}},
    }


def bundle(
    incident: Incident,
    observables: list[Observable],
    systems: list[dict[str, Any]],
    organization: str,
    modified: datetime | None = None,
) -> dict[str, Any]:
    """Build the bundle (a plain dict ready for ``json.dumps``)."""
    identity_id = sid("identity", organization)
    created = ts(incident.opened_at)
    modified_ts = ts(max(modified or incident.opened_at, incident.opened_at))
    cat = CATEGORIES[incident.category]
    # One identity shared by every export of this organization: a fixed creation time keeps it one version.
    identity = {
        "type": "identity",
        "spec_version": "2.1",
        "id": identity_id,
        "created": IDENTITY_CREATED,
        "modified": IDENTITY_CREATED,
        "name": organization,
        "identity_class": "organization",
    }
    inc_id = sid("incident", incident.code)
    inc: dict[str, Any] = {
        "type": "incident",
        "spec_version": "2.1",
        "id": inc_id,
        "created": created,
        "modified": modified_ts,
        "name": f"{incident.code}: {incident.title}",
        "created_by_ref": identity_id,
        "object_marking_refs": [TLP_IDS[incident.tlp]],
        "external_references": [{"source_name": "secops", "external_id": incident.code}],
        "labels": [incident.category, f"rsit:{cat.rsit}", f"status:{incident.status}"],
    }
    lines = [
        incident.detail or "",
        f"Category (Circular 20 Form 05): {cat.en}; RSIT class: {cat.rsit}.",
        f"Detected: {ts(incident.detected_at)} ({incident.detected_by}).",
        "Affected systems: "
        + (", ".join(f"{x['code']} (level {x['level']})" for x in systems) or "none")
        + ".",
    ]
    inc["description"] = "\n".join(line for line in lines if line)
    objects: list[dict[str, Any]] = [identity, inc]
    tlps = {incident.tlp}
    for obs in observables:
        tlps.add(obs.tlp)
        ind_id = sid("indicator", incident.code, obs.type, obs.value)
        added = ts(obs.added_at)
        objects.append(
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": ind_id,
                "created": added,
                "modified": added,
                "name": f"{obs.type}: {obs.value}",
                "indicator_types": ["malicious-activity"],
                "description": f"Observed in incident {incident.code} (source: {obs.source}).",
                "pattern": pattern(obs),
                "pattern_type": "stix",
                "pattern_version": "2.1",
                "valid_from": added,
                "created_by_ref": identity_id,
                "object_marking_refs": [TLP_IDS[obs.tlp]],
            }
        )
        objects.append(
            {
                "type": "relationship",
                "spec_version": "2.1",
                "id": sid("relationship", ind_id, inc_id),
                "created": added,
                "modified": added,
                "relationship_type": "related-to",
                "source_ref": ind_id,
                "target_ref": inc_id,
                "created_by_ref": identity_id,
                "object_marking_refs": [TLP_IDS[obs.tlp]],
            }
        )
    objects.extend(marking(t) for t in sorted(tlps, key=list(TLP_IDS).index))
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}
