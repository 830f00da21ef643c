"""Port-policy checks (checks/network) on network facts built from imported real nmap XML."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from secops.catalog.loader import load_catalog
from secops.models.host import Host
from secops.models.scope import Scope
from secops.netscan.facts import network_facts
from secops.netscan.service import import_file
from secops.probes import evaluate
from secops.probes.facts import run_samples
from secops.probes.outcome import FactUnavailable
from secops.store import ContentStore
from tests.fixtures.nmap.helpers import fixture, host

NETWORK_CHECKS = ["net_admin_db_ports_not_exposed", "net_cleartext_services_absent", "net_ports_declared",
                  "net_tls_legacy_absent"]  # fmt: skip


def test_embedded_samples_pass() -> None:
    catalog = load_catalog()
    checks = catalog.checks_for("network")
    assert sorted(c.id for c in checks) == NETWORK_CHECKS
    results = run_samples(catalog, checks)
    assert [(r.check, r.name) for r in results if not r.ok] == []
    for check in checks:
        assert check.requirements and all(rid in catalog.requirements for rid in check.requirements)


def statuses(facts: dict, level: int | None, zone: str | None) -> dict[str, str]:
    catalog = load_catalog()
    return {c.id: evaluate(c, facts, {"level": level, "zone": zone}).status for c in catalog.checks_for("network")}


def test_observations_become_facts_and_results(engine, tmp_path: Path) -> None:
    store = ContentStore(tmp_path / "store")
    with Session(engine) as session:
        session.add(Scope(name="dmz", cidr="10.253.38.0/29", zone="dmz"))
        session.add(Scope(name="lab", cidr="10.253.39.0/24", zone="internal"))
        session.add(host("web01", "10.253.38.2", ["80/tcp"]))
        session.add(host("db01", "10.253.38.3", ["22/tcp", "3306/tcp"]))
        session.add(host("app", "10.253.39.2", ["22/tcp", "80/tcp", "443/tcp"]))
        session.add(host("never", "10.253.39.9", ["22/tcp"]))
        session.commit()
        for name in ("nmap-4.76.xml", "discovery.xml", "services.xml", "tls-legacy.xml"):
            import_file(session, store, fixture(name), actor="tester")
        session.commit()
        hosts = {h.name: h for h in session.exec(select(Host)).all()}

        web = network_facts(session, hosts["web01"])
        assert [p["id"] for p in web["net_ports"]] == ["21/tcp", "23/tcp", "80/tcp"]
        assert web["net_declared_services"] == ["80/tcp"]
        assert web["net_observation"] == {
            "address": "10.253.38.2",
            "zone": "dmz",
            "scope": "dmz",
            "scan_id": 1,
            "last_seen": "2009-03-10T02:15:18+00:00",
        }
        assert statuses(web, 3, "dmz") == {
            "net_cleartext_services_absent": "fail",
            "net_admin_db_ports_not_exposed": "pass",
            "net_tls_legacy_absent": "not_applicable",
            "net_ports_declared": "fail",
        }
        db = network_facts(session, hosts["db01"])
        assert statuses(db, 3, "dmz") == {
            "net_cleartext_services_absent": "pass",
            "net_admin_db_ports_not_exposed": "fail",
            "net_tls_legacy_absent": "not_applicable",
            "net_ports_declared": "pass",
        }

        # The latest port scan of 10.253.39.2 is the TLS scan (443 only); the discovery scan is ignored.
        app = network_facts(session, hosts["app"])
        assert app["net_observation"]["zone"] == "internal" and app["net_observation"]["scan_id"] == 4
        assert [(p["id"], p["tls_versions"], p["tls_weak_ciphers"]) for p in app["net_ports"]] == [
            ("443/tcp", ["TLSv1.0", "TLSv1.2"], ["TLS_RSA_WITH_3DES_EDE_CBC_SHA"])
        ]
        assert statuses(app, 2, "internal")["net_tls_legacy_absent"] == "fail"
        assert statuses(app, 1, "internal")["net_tls_legacy_absent"] == "not_applicable"

        never = network_facts(session, hosts["never"])
        assert never["net_ports"] == FactUnavailable("skipped", "no port scan has observed 10.253.39.9")
        assert set(statuses(never, 3, "internal").values()) == {"skipped"}
