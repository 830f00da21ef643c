"""A non-editable install ships checks/, playbooks/, reports/, migrations and locales, and finds them."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_ships_data_and_runs_from_it(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(ROOT)],
        check=True, timeout=300,
    )
    wheel = next(tmp_path.glob("secops-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "secops/_data/checks/levels/decree85.yaml",
        "secops/migrations/env.py",
        "secops/migrations/versions/0001_foundation.py",
        "secops/locale/vi/LC_MESSAGES/core.po",
        "secops/demo/province.yaml",
    ):
        assert expected in names, expected
    assert any(n.startswith("secops/_data/playbooks/") for n in names)
    assert any(n.startswith("secops/_data/reports/") for n in names) or not any(ROOT.joinpath("reports").iterdir())

    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, timeout=300)
    env = {**os.environ, "PYTHONPATH": str(target)}
    code = (
        "import secops, secops.resources as r; "
        "print(secops.__file__); print(r.data_dir('checks')); print(r.data_dir('playbooks'))"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                         cwd=tmp_path).stdout
    lines = out.split()
    assert all(line.startswith(str(target)) for line in lines), out
    demo = subprocess.run(
        [sys.executable, "-m", "secops", "--home", str(tmp_path / "home"), "--lang", "en", "demo",
         "--out", str(tmp_path / "demo")],
        env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )
    assert demo.returncode == 0, demo.stderr
    assert "dvc-portal" in demo.stdout
