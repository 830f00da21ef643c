"""Bad inventory input: every problem reported with its exact FILE:LINE / FILE[sheet]!ROW, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from secops import db
from secops.i18n import set_language
from secops.inventory.export import dump_yaml, export_document
from secops.inventory.importer import import_files
from secops.inventory.problems import InventoryError
from secops.models import AuditEvent

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "inventory"
PASSWORD = (
    "field 'password' refused: secops never stores passwords; give an SSH key path (ssh.key) or use "
    "the SSH agent"
)
UNKNOWN = "(not in this import nor in the database)"


@pytest.fixture(autouse=True)
def _english() -> None:
    set_language("en")


def _state(engine: Engine) -> tuple[str, int]:
    with Session(engine) as s:
        return dump_yaml(export_document(s)), s.exec(select(func.count()).select_from(AuditEvent)).one()


@pytest.fixture
def loaded(engine: Engine) -> Engine:
    """A database holding the province fixture (so "unchanged" means something)."""
    with db.session_scope(engine) as s:
        import_files(s, [FIXTURES / "province.yaml"], "setup")
    return engine


def _problems(engine: Engine, *paths: Path, kind: str | None = None) -> list[str]:
    """Import ``paths``; it must fail, leave the database exactly as it was, and report these problems."""
    before = _state(engine)
    with pytest.raises(InventoryError) as info, db.session_scope(engine) as s:
        import_files(s, list(paths), "tester", kind=kind)
    assert _state(engine) == before
    lines = str(info.value).splitlines()
    assert lines[0] == f"{len(info.value.problems)} problem(s) in the inventory; nothing was written:"
    return [line.strip() for line in lines[1:]]


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_yaml_field_problems_each_at_their_line(loaded: Engine, tmp_path: Path) -> None:
    f = _write(
        tmp_path / "bad.yaml",
        """\
agencies:
  - {code: so-tc, name: "Sở Tài chính", colour: red}
systems:
  - code: Bad_Code
    name: X
    owner: ubnd-tinh
  - code: s1
    name: S1
    owner: ubnd-tinh
    function: webapp
    information: [public, secret]
    online_public_service_level: 5
    infrastructure_scope: planet
    ics_construction_grade: V
    state_secret_harm: mild
    personal_data_users: many
hosts:
  - name: h1
    address: 999.1.1.1
    os: plan9
    transport: telnet
    ssh: {user: root, port: 0, host_key: "MD5:aa:bb"}
    services: [22/tcp, 70000/tcp]
scopes:
  - {name: s, cidr: 127.10.1.5/24}
  - {name: t, cidr: 10.0.0.0/33}
  - {cidr: 127.0.0.0/8}
""",
    )
    n = str(f)
    assert _problems(loaded, f) == [
        f"{n}:2: unknown field 'colour' (allowed: code, name, parent)",
        f"{n}:4: code: 'Bad_Code' is not valid (use only lower-case letters a-z, digits and '-')",
        f"{n}:10: function: 'webapp' is not allowed (use 'internal', 'citizen_service', 'infrastructure', "
        "'industrial_control', 'other')",
        f"{n}:11: information[1]: 'secret' is not allowed "
        "(use 'public', 'private', 'personal', 'state_secret')",
        f"{n}:12: online_public_service_level: Input should be less than or equal to 4 (got 5)",
        f"{n}:13: infrastructure_scope: 'planet' is not allowed (use 'organization', 'sector', 'province', "
        "'multi_province', 'national', 'international')",
        f"{n}:14: ics_construction_grade: 'V' is not allowed (use 'IV', 'III', 'II', 'I', 'special')",
        f"{n}:15: state_secret_harm: 'mild' is not allowed (use 'harm', 'serious', 'especially_serious')",
        f"{n}:16: personal_data_users: Input should be a valid integer (got 'many')",
        f"{n}:19: address: '999.1.1.1' is not an IP address",
        f"{n}:20: os: 'plan9' is not allowed (use 'linux', 'windows', 'bsd', 'macos', 'network', 'other')",
        f"{n}:21: transport: 'telnet' is not allowed (use 'ssh', 'local')",
        f"{n}:22: ssh.port: Input should be greater than or equal to 1 (got 0)",
        f"{n}:22: ssh.host_key: host_key must be an OpenSSH SHA256 fingerprint "
        "like SHA256:<43 base64 characters>",
        f"{n}:23: services: '70000/tcp' is not a service like 22/tcp or 161/udp (port 1–65535)",
        f"{n}:25: cidr: '127.10.1.5/24' is not a network in CIDR notation (127.10.1.5/24 has host bits set)",
        f"{n}:26: cidr: '10.0.0.0/33' is not a network in CIDR notation "
        "('10.0.0.0/33' does not appear to be an "
        "IPv4 or IPv6 network)",
        f"{n}:27: missing required field 'name'",
    ]


def test_references_duplicates_and_cycles(loaded: Engine, tmp_path: Path) -> None:
    a = _write(
        tmp_path / "a.yaml",
        """\
agencies:
  - {code: x-1, name: X1, parent: x-2}
  - {code: x-2, name: X2, parent: x-1}
systems:
  - {code: s-a, name: A, owner: ubnd-tinh, components: [s-b]}
  - {code: s-b, name: B, owner: ubnd-tinh, components: [s-a]}
  - code: s-c
    name: C
    owner: nobody
    operator: trung-tam-cds
    components:
      - dvc-portal
      - ghost
""",
    )
    b = _write(
        tmp_path / "b.yaml",
        """\
systems:
  - {code: s-c, name: C again, owner: ubnd-tinh}
hosts:
  - {name: h, address: 127.0.0.1, system: nosys}
scopes:
  - {name: z, cidr: 127.0.0.0/8, owner: nobody}
""",
    )
    na, nb = str(a), str(b)
    assert _problems(loaded, a, b) == [
        f"{na}:2: parent agencies form a cycle: x-1 → x-2 → x-1",
        f"{na}:5: components form a cycle: s-a → s-b → s-a",
        f"{na}:9: owner: unknown agency 'nobody' {UNKNOWN}",
        f"{na}:13: components: unknown system 'ghost' {UNKNOWN}",
        f"{nb}:2: duplicate code 's-c' in systems (first at {na}:7)",
        f"{nb}:4: system: unknown system 'nosys' {UNKNOWN}",
        f"{nb}:6: owner: unknown agency 'nobody' {UNKNOWN}",
    ]


def test_cycle_closed_through_the_database(loaded: Engine, tmp_path: Path) -> None:
    # The database says dvc-portal is made of mot-cua; making mot-cua contain dvc-portal closes a loop.
    f = _write(
        tmp_path / "loop.yaml",
        """\
systems:
  - code: mot-cua
    name: "Hệ thống thông tin một cửa điện tử"
    owner: ubnd-tinh
    components: [dvc-portal]
""",
    )
    assert _problems(loaded, f) == [f"{f}:5: components form a cycle: dvc-portal → mot-cua → dvc-portal"]


def test_self_component_is_a_cycle(loaded: Engine, tmp_path: Path) -> None:
    f = _write(
        tmp_path / "self.yaml",
        "systems:\n  - {code: van-phong, name: V, owner: so-khcn, components: [van-phong]}\n",
    )
    assert _problems(loaded, f) == [f"{f}:2: components form a cycle: van-phong → van-phong"]


def test_passwords_are_refused_anywhere(loaded: Engine, tmp_path: Path) -> None:
    y = _write(
        tmp_path / "pw.yaml",
        """\
hosts:
  - name: h1
    address: 127.0.0.1
    ssh:
      user: root
      password: hunter2
scopes:
  - {name: z, cidr: 127.0.0.0/8, password: x}
""",
    )
    c = _write(tmp_path / "hosts-pw.csv", "name,address,ssh_password\nh2,127.0.0.2,secret\n")
    assert _problems(loaded, y, c) == [
        f"{y}:6: {PASSWORD}",
        f"{y}:8: {PASSWORD}",
        f"{c}:1: " + PASSWORD.replace("'password'", "'ssh_password'"),
    ]


def test_yaml_syntax_error_has_its_line(loaded: Engine, tmp_path: Path) -> None:
    f = _write(tmp_path / "syntax.yaml", "agencies:\n  - {code: a, name: A}\n  - {code: b, name: [B}\n")
    assert _problems(loaded, f) == [
        f"{f}:3: YAML syntax error: while parsing a flow sequence did not find expected ',' or ']'"
    ]


def test_yaml_duplicate_key_and_bad_shape(loaded: Engine, tmp_path: Path) -> None:
    f = _write(tmp_path / "dup.yaml", "agencies:\n  - code: a\n    name: A\n    code: b\n")
    assert _problems(loaded, f) == [
        f"{f}:4: YAML syntax error: while constructing a mapping found duplicate key 'code'"
    ]
    g = _write(tmp_path / "shape.yaml", "agencies: {code: a}\nnetworks: []\nhosts:\n  - just-a-name\n")
    assert _problems(loaded, g) == [
        f"{g}:1: agencies must be a list",
        f"{g}:2: unknown section 'networks': use agencies, systems, hosts or scopes",
        f"{g}:4: each entry of hosts must be a mapping",
    ]


def test_non_utf8_files_name_line_and_byte_offset(loaded: Engine, tmp_path: Path) -> None:
    y = tmp_path / "latin1.yaml"
    y.write_bytes(
        'agencies:\n  - {code: a, name: "S\u1edf"}\n'.encode() + b'  - {code: b, name: "C\xf4ng"}\n'
    )
    c = tmp_path / "scopes.csv"
    c.write_bytes(b"name,cidr,zone\nlan,127.0.0.0/8,Ph\xf2ng\n")
    assert _problems(loaded, y, c) == [
        f"{y}:3: not UTF-8 text (invalid byte 0xf4 at byte offset 60); save the file as UTF-8",
        f"{c}:2: not UTF-8 text (invalid byte 0xf2 at byte offset 33); save the file as UTF-8",
    ]


def test_csv_problems_at_their_physical_line(loaded: Engine, tmp_path: Path) -> None:
    # The description spans two physical lines, so the next record starts on line 4.
    f = _write(
        tmp_path / "systems-extra.csv",
        (
            "code,name,owner,description,national_egov_24x7,information,online_public_service_level\n"
            'ok-1,Một,ubnd-tinh,"hai\ndòng",no,public;private,2\n'
            "bad-1,Hai,ubnd-tinh,,maybe,public;secret,x\n"
            "bad-2,Ba,ubnd-tinh,,,,,extra\n"
        ),
    )
    assert _problems(loaded, f) == [
        f"{f}:4: information[1]: 'secret' is not allowed "
        "(use 'public', 'private', 'personal', 'state_secret')",
        f"{f}:4: online_public_service_level: Input should be a valid integer (got 'x')",
        f"{f}:4: national_egov_24x7: Input should be a valid boolean (got 'maybe')",
        f"{f}:5: this row has 8 cells but the header has 7 columns",
    ]
    g = _write(tmp_path / "hosts.csv", "name,address,colour\n")
    assert _problems(loaded, g) == [
        f"{g}:1: unknown column 'colour' for hosts (allowed: name, address, system, os, zone, transport, "
        "ssh_user, ssh_port, ssh_key, ssh_known_hosts, ssh_host_key, ssh_sudo, services)"
    ]
    h = _write(tmp_path / "inventory.csv", "name,cidr\nz,127.0.0.0/8\n")
    assert _problems(loaded, h) == [
        f"{h}: cannot tell what this CSV holds: "
        "name it agencies*.csv, systems*.csv, hosts*.csv or scopes*.csv, "
        "or pass --kind"
    ]


def test_xlsx_problems_name_sheet_and_row(loaded: Engine, tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "systems"
    ws.append(["code", "name", "owner", "function"])
    ws.append(["ok-x", "OK", "ubnd-tinh", "internal"])
    ws.append([])
    ws.append(["bad-x", "Bad", "nobody", "webapp"])
    hosts = wb.create_sheet("hosts")
    hosts.append(["name", "address", "ssh_port", "ssh_sudo"])
    hosts.append(["h-x", "127.0.0.300", 22.0, "perhaps"])
    wb.create_sheet("notes").append(["free text"])
    path = tmp_path / "inv.xlsx"
    wb.save(path)
    assert _problems(loaded, path) == [
        f"{path}[hosts]!2: address: '127.0.0.300' is not an IP address",
        f"{path}[hosts]!2: ssh.sudo: Input should be a valid boolean (got 'perhaps')",
        f"{path}[notes]!1: unknown sheet 'notes': name sheets agencies, systems, hosts or scopes",
        f"{path}[systems]!4: function: 'webapp' is not allowed (use 'internal', 'citizen_service', "
        "'infrastructure', 'industrial_control', 'other')",
        f"{path}[systems]!4: owner: unknown agency 'nobody' {UNKNOWN}",
    ]
    broken = _write(tmp_path / "broken.xlsx", "not a zip")
    (only,) = _problems(loaded, broken)
    assert only.startswith(f"{broken}: not a readable XLSX workbook: ")


def test_cli_exits_2_and_prints_every_problem(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run("inventory", "import", str(FIXTURES / "province.yaml")).exit_code == 0
    before = run("inventory", "export", "--format", "json").output
    f = _write(
        tmp_path / "bad.yaml",
        'hosts:\n  - {name: h, address: 127.0.0.1, system: nosys}\n  - {name: h, address: "::1"}\n',
    )
    result = run("inventory", "import", str(f))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: 2 problem(s) in the inventory; nothing was written:",
        f"  {f}:2: system: unknown system 'nosys' {UNKNOWN}",
        f"  {f}:3: duplicate name 'h' in hosts (first at {f}:2)",
    ]
    assert run("inventory", "export", "--format", "json").output == before


def test_unreadable_and_unsupported_files(loaded: Engine, tmp_path: Path) -> None:
    missing, notes = tmp_path / "missing.yaml", _write(tmp_path / "notes.txt", "hello")
    assert _problems(loaded, missing, notes) == [
        f"{missing}: cannot read: No such file or directory",
        f"{notes}: unsupported file type '.txt': use .yaml, .yml, .json, .csv or .xlsx",
    ]


def test_problems_in_vietnamese(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    f = _write(tmp_path / "vi.yaml", "scopes:\n  - {name: z, cidr: 127.0.0.0/8, owner: nobody}\n")
    result = run("inventory", "import", str(f), lang="vi")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: danh mục có 1 lỗi; chưa ghi gì vào cơ sở dữ liệu:",
        f"  {f}:2: owner: không tìm thấy cơ quan 'nobody' "
        "(không có trong lần nhập này lẫn trong cơ sở dữ liệu)",
    ]
