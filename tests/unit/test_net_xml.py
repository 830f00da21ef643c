"""The streaming nmap XML reader: real nmap 7.93 output, a hand-derived 4.76 file, IPv6, NSE, errors."""

from __future__ import annotations

import io
import tracemalloc

import pytest

from benchmarks.bench_netscan import write_xml
from secops.errors import InputError
from secops.netscan.xmlstream import NmapXmlReader, port_dict
from tests.fixtures.nmap.helpers import fixture


def read(name: str) -> tuple[NmapXmlReader, list]:
    with fixture(name).open("rb") as fh:
        reader = NmapXmlReader(fh, name)
        return reader, list(reader.hosts())


def ports(record) -> list[dict]:
    return [port_dict(p) for p in record.ports]


def open_ports(record) -> list[tuple]:
    return [
        (p["port"], p["protocol"], p["service"], p["product"], p["version"])
        for p in ports(record)
        if p["state"] == "open"
    ]


def test_services_scan_fields() -> None:
    reader, hosts = read("services.xml")
    assert reader.header.nmap_version == "7.93"
    assert reader.header.xml_version == "1.05"
    assert reader.header.scaninfo == [
        {"type": "syn", "protocol": "tcp", "numservices": "4", "services": "22,80,443,8080"}
    ]
    assert reader.header.started is not None and reader.header.finished is not None
    assert len(hosts) == 1  # the <hosthint> before the host is not a host
    host = hosts[0]
    assert host.row["address"] == "10.253.39.2"
    assert host.row["state"] == "up" and host.row["reason"] == "arp-response"
    assert host.row["mac"] == "F2:84:6A:72:4B:50"
    assert open_ports(host) == [
        (22, "tcp", "ssh", "OpenSSH", "9.2p1 Debian 2+deb12u3"),
        (80, "tcp", "http", "Apache httpd", "2.4.57"),
        (443, "tcp", "http", "Apache httpd", "2.4.57"),
    ]
    by_port = {p["port"]: p for p in ports(host)}
    assert by_port[443]["tunnel"] == "ssl"
    assert by_port[22]["cpe"] == "cpe:/a:openbsd:openssh:9.2p1"
    assert by_port[8080]["state"] == "closed"


def test_nse_ssl_enum_ciphers_is_summarised() -> None:
    _, hosts = read("tls.xml")
    port = ports(hosts[0])[0]
    assert port["tls"] == {"versions": ["TLSv1.2", "TLSv1.3"], "least_strength": "A", "weak_ciphers": []}
    assert "TLSv1.2" in port["scripts"]["ssl-enum-ciphers"]


def test_legacy_tls_fixture_lists_weak_ciphers() -> None:
    _, hosts = read("tls-legacy.xml")
    tls = ports(hosts[0])[0]["tls"]
    assert tls["versions"] == ["TLSv1.0", "TLSv1.2"]
    assert tls["least_strength"] == "C"
    assert tls["weak_ciphers"] == ["TLS_RSA_WITH_3DES_EDE_CBC_SHA"]


def test_down_hosts_and_discovery() -> None:
    _, hosts = read("down.xml")
    assert [(h.row["address"], h.row["state"]) for h in hosts] == [
        ("10.253.39.0", "down"),
        ("10.253.39.2", "up"),
        ("10.253.39.3", "down"),
        ("10.253.39.1", "up"),
    ]
    reader, hosts = read("discovery.xml")
    assert reader.header.scaninfo == []
    assert [ports(h) for h in hosts] == [[], []]


def test_ipv6_and_udp() -> None:
    _, hosts = read("ipv6.xml")
    assert hosts[0].row["address"] == "::1" and hosts[0].row["address_type"] == "ipv6"
    assert [(p["protocol"], p["state"]) for p in ports(hosts[0])] == [("tcp", "open")]
    _, hosts = read("udp.xml")
    assert [(p["port"], p["protocol"], p["state"], p["service"]) for p in ports(hosts[0])] == [
        (161, "udp", "open", "snmp"),
        (162, "udp", "closed", "snmptrap"),
    ]


def test_old_nmap_format() -> None:
    reader, hosts = read("nmap-4.76.xml")
    assert reader.header.nmap_version == "4.76" and reader.header.xml_version == "1.02"
    assert [
        (h.row["address"], h.row["hostnames"], h.row["vendor"], h.row["os_name"], h.row["os_accuracy"]) for h in hosts
    ] == [
        ("10.253.38.2", ["web01.example.test"], "VMware", "Linux 2.6.17 - 2.6.25", 100),
        ("10.253.38.3", None, "Intel", "Linux 2.6.18 - 2.6.24", 95),
    ]
    assert [p["port"] for p in ports(hosts[0])] == [21, 23, 80]


def test_os_detection() -> None:
    _, hosts = read("os.xml")
    assert hosts[0].row["os_name"] == "Linux 5.3 - 5.4"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("truncated.xml", "truncated.xml:22:1: malformed or truncated XML (unclosed token)"),
        ("malformed.xml", "malformed.xml:19:3: malformed or truncated XML (mismatched tag)"),
        ("empty.xml", "empty.xml:1:1: malformed or truncated XML (no element found)"),
        ("not-nmap.xml", "not-nmap.xml: not nmap XML output (root element <report>, expected <nmaprun>)"),
    ],
)
def test_broken_files_name_the_position(name: str, message: str) -> None:
    with pytest.raises(InputError) as err:
        read(name)
    assert str(err.value) == message


def test_invalid_port_and_missing_address() -> None:
    bad_port = (
        b'<nmaprun><host><status state="up"/><address addr="10.253.1.2" addrtype="ipv4"/>'
        b'<ports><port protocol="tcp" portid="x"/></ports></host></nmaprun>'
    )
    with pytest.raises(InputError, match=r"mem: host #1 \(10.253.1.2\): port 'x'/'tcp' is not valid"):
        list(NmapXmlReader(io.BytesIO(bad_port), "mem").hosts())
    no_address = b'<nmaprun><host><status state="up"/></host></nmaprun>'
    with pytest.raises(InputError, match="mem: host #1 has no <address>"):
        list(NmapXmlReader(io.BytesIO(no_address), "mem").hosts())


def test_entity_expansion_is_refused() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE n [<!ENTITY a "aaaaaaaaaa">'
        + b"".join(
            b'<!ENTITY %s "%s">' % (f"a{i}".encode(), (f"&a{i - 1};" if i > 1 else "&a;").encode() * 10)
            for i in range(1, 12)
        )
        + b']><nmaprun args="&a11;"/>'
    )
    with pytest.raises(InputError, match="malformed or truncated XML"):
        list(NmapXmlReader(io.BytesIO(bomb), "bomb").hosts())


def test_memory_stays_flat(tmp_path) -> None:
    """Ten times the hosts must not cost ten times the memory (the tree is cleared host by host)."""
    peaks = []
    for hosts in (300, 3000):
        path = tmp_path / f"{hosts}.xml"
        write_xml(path, hosts, 5)
        tracemalloc.start()
        with path.open("rb") as fh:
            count = sum(1 for _ in NmapXmlReader(fh, path.name).hosts())
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert count == hosts
    # Only the cleared shells (~200 bytes a host, with its hint) grow; the hosts themselves do not.
    assert peaks[1] - peaks[0] < 2700 * 300
