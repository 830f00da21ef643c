"""The nmap XML helper process: same records as parsing in-process, exact bytes kept, failures contained."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.bench_netscan import write_xml
from secops.errors import InputError
from secops.i18n import current_language, set_language
from secops.netscan.isolated import IsolatedReader
from secops.netscan.parsehelper import BATCH_HOSTS
from secops.netscan.xmlstream import NmapXmlReader
from secops.store import ContentStore
from tests.fixtures.nmap.helpers import fixture

GOOD = ["services.xml", "tls.xml", "tls-legacy.xml", "down.xml", "discovery.xml", "ipv6.xml", "udp.xml",
        "nmap-4.76.xml", "os.xml", "syn-top.xml"]  # fmt: skip
LIMIT = 1 << 30


@pytest.fixture
def english() -> Iterator[None]:
    before = current_language()
    set_language("en")
    yield
    set_language(before)


def isolated(path: Path, limit: int = LIMIT, copy_to: Path | None = None) -> tuple[IsolatedReader, list]:
    with IsolatedReader(path, path.name, limit, copy_to=copy_to) as reader:
        return reader, [(h.row, h.ports) for h in reader.hosts()]


@pytest.mark.parametrize("name", GOOD)
def test_same_records_and_header_as_in_process(name: str) -> None:
    with fixture(name).open("rb") as fh:
        local = NmapXmlReader(fh, name)
        expected = [(h.row, h.ports) for h in local.hosts()]
    reader, records = isolated(fixture(name))
    assert records == expected
    assert reader.header == local.header
    data = fixture(name).read_bytes()
    assert (reader.sha256, reader.size) == (hashlib.sha256(data).hexdigest(), len(data))


def test_batches_and_trailing_bytes_are_all_kept(tmp_path: Path) -> None:
    path = tmp_path / "big.xml"
    write_xml(path, BATCH_HOSTS * 2 + 7, 2)
    path.write_bytes(path.read_bytes() + b"<!-- written after the root element -->\n")
    copy = tmp_path / "copy"
    reader, records = isolated(path, copy_to=copy)
    assert [row["address"] for row, _ in records[:2]] == ["127.1.0.1", "127.1.0.2"]
    assert len(records) == BATCH_HOSTS * 2 + 7 and all(len(ports) == 2 for _, ports in records)
    assert copy.read_bytes() == path.read_bytes()
    assert reader.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert 5_000 < reader.peak_kib < 100_000  # its own resident peak, in KiB: tens of MB, not the file's size


def test_refusals_name_the_file(tmp_path: Path, english: None) -> None:
    link = tmp_path / "link.xml"
    link.symlink_to(fixture("services.xml"))
    cases = [
        (link, "link.xml: cannot read (symbolic links are refused)"),
        (tmp_path / "missing.xml", "missing.xml: cannot read (No such file or directory)"),
        (Path(os.devnull), "null: not a regular file"),
        (fixture("truncated.xml"), "truncated.xml:22:1: malformed or truncated XML (unclosed token)"),
    ]
    for path, message in cases:
        with pytest.raises(InputError) as err:
            isolated(path)
        assert str(err.value) == message
    with pytest.raises(InputError) as err:
        isolated(fixture("services.xml"), limit=1000)
    assert str(err.value) == "services.xml: file larger than the limit of 1000 bytes"


def test_a_helper_that_dies_is_an_error_not_a_hang(tmp_path: Path) -> None:
    path = tmp_path / "big.xml"
    write_xml(path, BATCH_HOSTS * 4, 5)
    with IsolatedReader(path, "big.xml", LIMIT) as reader:
        hosts = reader.hosts()
        next(hosts)
        assert reader._proc is not None
        reader._proc.kill()
        with pytest.raises(InputError, match=r"big.xml: the nmap XML parser process failed \(exit -9\)"):
            list(hosts)


def test_leaving_early_stops_the_helper(tmp_path: Path) -> None:
    path = tmp_path / "big.xml"
    write_xml(path, BATCH_HOSTS * 4, 5)
    with IsolatedReader(path, "big.xml", LIMIT) as reader:
        next(reader.hosts())
        proc = reader._proc
    assert proc is not None and proc.returncode == -9  # killed: it was blocked on a full pipe, not done


def test_store_adopts_an_incoming_file_once(tmp_path: Path) -> None:
    store = ContentStore(tmp_path / "store")
    first, second = store.incoming(), store.incoming()
    first.write_bytes(b"scan")
    second.write_bytes(b"scan")
    digest = hashlib.sha256(b"scan").hexdigest()
    stored = store.adopt(first, digest)
    again = store.adopt(second, digest)
    assert stored == again and stored.path.read_bytes() == b"scan" and stored.size == 4
    assert not first.exists() and not second.exists()
    assert store.verify(digest)
