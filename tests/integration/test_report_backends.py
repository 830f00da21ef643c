"""The report queries on both databases (SQLite and a real PostgreSQL): the aggregate SQL must be portable."""

from __future__ import annotations

import json
from pathlib import Path

from secops.resources import package_file
from tests.conftest import Cli


def test_levels_and_system_reports_on_each_backend(run: Cli, tmp_path: Path) -> None:
    assert run("inventory", "import", str(package_file("demo", "province.yaml"))).exit_code == 0
    assert run("level", "classify", "--all", "--format", "json").exit_code == 0
    out = tmp_path / "levels.json"
    result = run("report", "levels", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(out)
    data = json.loads(out.read_text(encoding="utf-8"))
    codes = [s["code"] for s in data["systems"]]
    assert codes == sorted(codes) and "dvc-portal" in codes
    assert data["summary"]["systems"] == len(codes)
    assert data["summary"]["approved"] == 0
    never = {o["code"] for o in data["summary"]["overdue_inspections"]}
    assert never == {s["code"] for s in data["systems"] if (s["level"] or 0) >= 3}
    html = tmp_path / "dvc.html"
    assert run("report", "system", "dvc-portal", "--out", str(html), lang="vi").exit_code == 0
    text = html.read_text(encoding="utf-8")
    assert "Báo cáo tuân thủ: Cổng dịch vụ công trực tuyến tỉnh" in text
    assert "Chưa có lần kiểm tra nào có kết quả cho hệ thống này." in text
