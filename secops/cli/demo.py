"""`secops demo`: a fresh embedded database with a sample province, classified and shown.

Everything the demo touches is local: the sample inventory uses loopback addresses only, and the
demo scans and checks 127.0.0.1 and nothing else.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import click
from rich.console import Console

from secops.cli.app import App, pass_app
from secops.cli.level import render_classification
from secops.cli.output import console as output_console
from secops.cli.output import emit
from secops.compliance import demo as compliance_demo
from secops.i18n import _
from secops.incidents import demo as incidents_demo
from secops.inventory.importer import import_files
from secops.levels.approval import approve, record_dossier
from secops.levels.engine import classify_systems
from secops.netscan import demo as netscan_demo
from secops.reporting import demo as reporting_demo
from secops.resources import package_file
from secops.scheduler import demo as scheduler_demo

SAMPLE = ("secops", "demo", "province.yaml")

# Approval decisions the sample province already holds (decision refs are fictional).
APPROVALS = (
    ("dvc-portal", 3, "1520/QĐ-UBND", date(2025, 8, 14), "Chủ tịch UBND tỉnh"),
    ("mot-cua", 3, "1521/QĐ-UBND", date(2025, 8, 14), "Chủ tịch UBND tỉnh"),
    ("lgsp", 3, "2043/QĐ-UBND", date(2025, 11, 3), "Chủ tịch UBND tỉnh"),
    ("cong-ttdt", 2, "87/QĐ-TTCĐS", date(2025, 5, 20), "Giám đốc Trung tâm Chuyển đổi số"),
    ("qlvb-dh", 2, "88/QĐ-TTCĐS", date(2025, 5, 20), "Giám đốc Trung tâm Chuyển đổi số"),
)
DOSSIER = (
    ("dvc-portal", "overview", "TM-01/2025 Thuyết minh tổng quan"),
    ("dvc-portal", "design", "TK-03/2025 Hồ sơ thiết kế thi công"),
    ("dvc-portal", "justification", "TM-02/2025 Thuyết minh đề xuất cấp độ"),
    ("dvc-portal", "security_plan", "PA-01/2025 Phương án bảo đảm ATTT cấp độ 3"),
    ("mot-cua", "overview", "TM-05/2025"),
    ("mot-cua", "justification", "TM-06/2025"),
)


@click.command("demo")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("secops-demo"),
              show_default=True, help="Directory for the demo database, store and reports (recreated).")
@pass_app
def demo_cmd(app: App, out_dir: Path) -> None:
    """Load a sample province into a fresh database, classify it and show what secops does."""
    out_dir = out_dir.resolve()
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    db_url = f"sqlite:///{out_dir / 'demo.db'}"
    demo = App(settings=replace(app.settings, db_url=db_url, home=out_dir / "home"), debug=app.debug)
    console = output_console()
    try:
        _inventory_and_levels(demo, console)
        console.rule(_("Compliance checks on this machine (local transport)"))
        compliance_demo.run_demo(demo, console)
        netscan_demo.run_demo(demo, console)
        console.rule(_("Incident response (Circular 20/2017/TT-BTTTT)"))
        incidents_demo.run_demo(demo, console)
        console.rule(_("Scheduled operation"))
        scheduler_demo.run_demo(demo, console)
        reporting_demo.run_demo(demo, console, out_dir)
    finally:
        demo.close()
    console.rule(_("Try it yourself"))
    console.print(_("The demo database stays in {path}. Use it with:").format(path=out_dir))
    console.print(f"  export SECOPS_DB_URL={db_url} SECOPS_HOME={out_dir / 'home'}")
    console.print("  secops system list\n  secops system show dvc-portal\n  secops level classify --all --format json")


def _inventory_and_levels(demo: App, console: Console) -> None:
    sample = package_file(*SAMPLE[1:])
    console.rule(_("1. Inventory of the sample province"))
    with demo.session() as session:
        summary = import_files(session, [sample], demo.actor)
    console.print(_("Imported {path}").format(path=sample))
    emit(summary.rows(), [("kind", _("Kind")), ("created", _("Created")), ("updated", _("Updated")),
                          ("unchanged", _("Unchanged"))], "table")
    console.rule(_("2. Security levels (Decree 85/2016/NĐ-CP)"))
    with demo.session() as session:
        classify_systems(session, None, demo.actor)
        for code, level, ref, decided, approver in APPROVALS:
            approve(session, code, level=level, decision=ref, decided_on=decided, approver=approver,
                    actor=demo.actor)
        for code, item, ref in DOSSIER:
            record_dossier(session, code, item, ref=ref, actor=demo.actor)
        results = classify_systems(session, None, demo.actor)
    render_classification(results, "table")


COMMANDS: list[click.Command] = [demo_cmd]
