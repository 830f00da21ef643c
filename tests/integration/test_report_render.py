"""Every report rendered on the demo database in Vietnamese and English: CLI contract, headless Chromium
(no console errors, no request leaving the file, key figures in the DOM, a screenshot), PDF text with
diacritics, forms refusing empty mandatory fields, OSCAL against the official schema."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from secops.cli import cli
from secops.resources import package_file
from tests.integration.report_browser import CHROMIUM, Browser
from tests.unit.test_report_oscal import validate_oscal

ORG = """
[organization]
name = "Sở Khoa học và Công nghệ tỉnh Vĩnh Long"
address = "Số 1 đường Trưng Nữ Vương, phường 1, tỉnh Vĩnh Long"
phone = "0270 3822 000"
email = "attt@skhcn.vinhlong.gov.vn"
member_code = "VL-ATTT-01"
representative = "Nguyễn Văn An"

[organization.contact]
name = "Trần Thị Bình"
position = "Trưởng phòng An toàn thông tin"
phone = "0909 000 111"
email = "binh.tt@skhcn.vinhlong.gov.vn"
"""


class Demo:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.db_url = f"sqlite:///{root / 'demo.db'}"
        self.home = root / "home"
        self.bare_home = root / "bare-home"
        self.out = root / "out"
        self.runner = CliRunner()

    def __call__(self, *args: str, home: Path | None = None, lang: str = "en") -> Result:
        argv = ["--db", self.db_url, "--home", str(home or self.home), "--lang", lang, *args]
        return self.runner.invoke(cli, argv, catch_exceptions=False)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    root = tmp_path_factory.mktemp("report-demo")
    env = {**os.environ, "SECOPS_HOME": str(root / "unused-home"), "SECOPS_LANG": "en"}
    env.pop("SECOPS_DB_URL", None)
    subprocess.run(
        [sys.executable, "-m", "secops", "demo", "--out", str(root)],
        env=env,
        check=True,
        capture_output=True,
        timeout=240,
    )
    d = Demo(root)
    d.home.mkdir(exist_ok=True)
    (d.home / "secops.toml").write_text(ORG, encoding="utf-8")
    d.bare_home.mkdir()
    # Two scans of the loopback scope: the shipped one, and a later one where telnet closed and 8080 opened.
    previous = Path(str(package_file("netscan", "data", "demo-previous.xml")))
    later = root / "later.xml"
    later.write_text(
        previous.read_text(encoding="utf-8")
        .replace('portid="23"', 'portid="8080"')
        .replace('name="telnet"', 'name="http-proxy"'),
        encoding="utf-8",
    )
    for xml in (previous, later):
        assert d("net", "import", str(xml), "--scope", "loopback", "--format", "json").exit_code == 0
    yield d


def _scan_id(demo: Demo) -> int:
    scans = json.loads(demo("net", "list", "--format", "json").output)
    return int(max(s["scan_id"] for s in scans))


def _incident(demo: Demo) -> str:
    return str(json.loads(demo("incident", "list", "--format", "json").output)[0]["code"])


def _cases(demo: Demo) -> list[tuple[str, list[str]]]:
    code = _incident(demo)
    return [
        ("levels", ["report", "levels"]),
        ("system", ["report", "system", "dvc-portal"]),
        ("network", ["report", "network", str(_scan_id(demo))]),
        ("form03", ["report", "incident", code, "--form", "03"]),
        ("form04", ["report", "incident", code, "--form", "04", "--draft"]),
        ("form05", ["report", "incidents", "--form", "05", "--period", "2026"]),
    ]


def _write(demo: Demo, name: str, args: list[str], lang: str, fmt: str) -> Path:
    out = demo.out / f"{name}.{lang}.{fmt}"
    result = demo(*args, "--out", str(out), "--format", fmt, "--lang", lang)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(out)  # the contract: writes PATH and prints it
    assert out.stat().st_size > 0
    return out


@pytest.fixture(scope="module")
def rendered(demo: Demo) -> dict[tuple[str, str], dict[str, Any]]:
    """Every report in html, json and csv, both languages."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for name, args in _cases(demo):
        for lang in ("vi", "en"):
            html = _write(demo, name, args, lang, "html")
            data = json.loads(_write(demo, name, args, lang, "json").read_text(encoding="utf-8"))
            csv_text = _write(demo, name, args, lang, "csv").read_text(encoding="utf-8")
            out[(name, lang)] = {"html": html, "json": data, "csv": csv_text}
    return out


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs the Debian chromium package (make test installs it)")
def test_html_in_chromium(rendered: dict[tuple[str, str], dict[str, Any]], demo: Demo) -> None:
    browser = Browser()
    try:
        pages = {key: browser.open(r["html"], r["html"].with_suffix(".png")) for key, r in rendered.items()}
    finally:
        browser.close()
    for (name, lang), page in pages.items():
        data = rendered[(name, lang)]["json"]
        assert page.console_errors == [], (name, lang)
        assert page.failed_requests == [], (name, lang)
        assert page.requests == [page.path.resolve().as_uri()], (name, lang)  # nothing but the file itself
        assert page.screenshot.stat().st_size > 10_000
        assert data["title"] in page.text, (name, lang)
    levels = rendered[("levels", "vi")]["json"]
    text = pages[("levels", "vi")].text
    for system in levels["systems"]:
        assert system["name"] in text
    assert f"{levels['summary']['systems']}\nhệ thống thông tin" in text
    assert f"{levels['summary']['approved']}\nđã được phê duyệt cấp độ" in text
    assert "Quá hạn kiểm tra, đánh giá (Điều 20 khoản 2 điểm c Nghị định 85)" in text
    assert "Systems by security level" in pages[("levels", "en")].text
    system = rendered[("system", "vi")]["json"]
    assert system["system"]["name"] in pages[("system", "vi")].text
    assert "Chi tiết từng yêu cầu" in pages[("system", "vi")].text
    net = pages[("network", "vi")].text
    assert "Cổng đã đóng" in net and "Cổng mới mở" in net and "8080/tcp" in net
    form03 = pages[("form03", "vi")].text
    for label in (
        "BÁO CÁO BAN ĐẦU SỰ CỐ MẠNG",
        "Tên tổ chức/cá nhân báo cáo sự cố",
        "Sở Khoa học và Công nghệ tỉnh Vĩnh Long",
        "Trần Thị Bình",
        "CÁCH THỨC PHÁT HIỆN",
        "☒ Qua hệ thống phát hiện xâm nhập (IDS)",
    ):
        assert label in form03
    assert "BÁO CÁO TỔNG HỢP 01 NĂM VỀ HOẠT ĐỘNG TIẾP NHẬN VÀ XỬ LÝ SỰ CỐ" in pages[("form05", "vi")].text
    assert "Mã hóa phần mềm, dữ liệu, thiết bị" in pages[("form05", "vi")].text
    keep = Path(os.environ.get("SECOPS_REPORT_SCREENSHOTS", demo.root / "screens"))
    keep.mkdir(parents=True, exist_ok=True)
    shutil.copy(pages[("levels", "vi")].screenshot, keep / "levels.vi.png")


def test_json_and_csv(rendered: dict[tuple[str, str], dict[str, Any]]) -> None:
    levels = rendered[("levels", "en")]
    assert levels["json"]["report"] == "levels" and levels["json"]["lang"] == "en"
    header, *rows = levels["csv"].splitlines()
    assert header.startswith("code,name,owner,operator,proposed_level,approved_level,decision_ref")
    assert len(rows) == levels["json"]["summary"]["systems"] == len(levels["json"]["systems"])
    dvc = next(s for s in levels["json"]["systems"] if s["code"] == "dvc-portal")
    assert (dvc["approved_level"], dvc["decision_ref"], dvc["dossier"]) == (3, "1520/QĐ-UBND", "4/4")
    assert dvc["open_incidents"] == 1
    form05 = rendered[("form05", "vi")]["json"]
    total = next(r for r in form05["table"] if r["category"] == "total")
    assert total["count"] == sum(r["count"] for r in form05["table"] if r["category"] != "total")
    assert rendered[("form03", "vi")]["json"]["missing"] == []


def test_pdf_text_has_vietnamese_labels(demo: Demo) -> None:
    if shutil.which("pdftotext") is None:
        pytest.skip("needs poppler-utils (make test installs it)")
    pytest.importorskip("weasyprint")
    code = _incident(demo)
    expected = {
        ("levels", ("report", "levels")): [
            "Báo cáo cấp độ an toàn hệ thống thông tin",
            "Số hệ thống theo cấp độ",
            "Cổng dịch vụ công trực tuyến tỉnh",
            "Chi tiết từng hệ thống",
        ],
        ("form03", ("report", "incident", code, "--form", "03")): [
            "BÁO CÁO BAN ĐẦU SỰ CỐ MẠNG",
            "Tên tổ chức/cá nhân báo cáo sự cố",
            "Mô tả sơ bộ về sự cố",
            "Ngày phát hiện sự cố",
            "CÁ NHÂN/NGƯỜI ĐẠI DIỆN THEO PHÁP LUẬT (Ký tên, đóng dấu)",
        ],
    }
    for (name, args), labels in expected.items():
        pdf = _write(demo, name, list(args), "vi", "pdf")
        assert pdf.read_bytes().startswith(b"%PDF")
        text = subprocess.run(
            ["pdftotext", "-enc", "UTF-8", "-layout", str(pdf), "-"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
        flat = " ".join(text.split())
        for label in labels:
            assert label in flat, (name, label)


def test_forms_refuse_empty_mandatory_fields(demo: Demo) -> None:
    code = _incident(demo)
    out = demo.out / "refused.html"
    result = demo("report", "incident", code, "--form", "03", "--out", str(out), home=demo.bare_home, lang="vi")
    assert result.exit_code == 2
    for label in ("Tên tổ chức/cá nhân báo cáo sự cố", "NGƯỜI LIÊN HỆ: Họ và tên", "Địa chỉ", "Email"):
        assert label in result.output
    assert not out.exists()
    result = demo("report", "incidents", "--form", "05", "--period", "2026H2", "--out", str(out), home=demo.bare_home)
    assert result.exit_code == 2 and "Network member code" in result.output
    draft = demo(
        "report", "incident", code, "--form", "03", "--draft", "--out", str(out), home=demo.bare_home, lang="vi"
    )
    assert draft.exit_code == 0
    assert "BẢN NHÁP — các mục bắt buộc (*) còn trống" in out.read_text(encoding="utf-8")


def test_exit_codes(demo: Demo) -> None:
    out = str(demo.out / "x.html")
    assert demo("report", "system", "no-such-system", "--out", out).exit_code == 2
    assert demo("report", "incidents", "--form", "05", "--period", "2026Q1", "--out", out).exit_code == 2
    assert demo("report", "incident", "SC-1999-9999", "--form", "03", "--out", out).exit_code == 2
    assert demo("report", "oscal", "999", "--out", out).exit_code == 2


def test_oscal_export_validates_and_is_stable(demo: Demo) -> None:
    first, second = demo.out / "oscal1.json", demo.out / "oscal2.json"
    assert demo("report", "oscal", "1", "--out", str(first)).exit_code == 0
    assert demo("report", "oscal", "1", "--out", str(second)).exit_code == 0
    a, b = (json.loads(p.read_text(encoding="utf-8")) for p in (first, second))
    validate_oscal(a)
    result_a, result_b = a["assessment-results"]["results"][0], b["assessment-results"]["results"][0]
    assert a["assessment-results"]["uuid"] == b["assessment-results"]["uuid"]
    assert [f["uuid"] for f in result_a["findings"]] == [f["uuid"] for f in result_b["findings"]]
    assert [o["uuid"] for o in result_a["observations"]] == [o["uuid"] for o in result_b["observations"]]
    states = {f["target"]["status"]["state"] for f in result_a["findings"]}
    assert states <= {"satisfied", "not-satisfied"} and "not-satisfied" in states
