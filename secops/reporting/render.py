"""One interface for every report: a builder returns a ``Report``; ``write`` turns it into html, pdf, json
or csv. HTML is self-contained (inline CSS and SVG, system fonts only) so it makes no external request."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from secops import __version__
from secops.errors import InputError
from secops.i18n import current_language, gettext, pick, set_language
from secops.incidents.vocab import STATUS_LABELS
from secops.jsonutil import to_json
from secops.reporting.dates import fmt_date, fmt_datetime, long_date
from secops.resources import data_dir
from secops.timeutil import DEFAULT_TZ, utcnow

FORMATS = ("html", "pdf", "json", "csv")
LABELS: dict[str, dict[str, str]] = {
    "pass": {"vi": "Đạt", "en": "Pass"},
    "fail": {"vi": "Không đạt", "en": "Fail"},
    "error": {"vi": "Lỗi", "en": "Error"},
    "skipped": {"vi": "Bỏ qua", "en": "Skipped"},
    "manual": {"vi": "Cần đánh giá thủ công", "en": "Manual"},
    "waived": {"vi": "Được miễn trừ", "en": "Waived"},
    "not_applicable": {"vi": "Không áp dụng", "en": "Not applicable"},
    "met": {"vi": "Đáp ứng", "en": "Met"},
    "not_met": {"vi": "Chưa đáp ứng", "en": "Not met"},
    "not_evaluated": {"vi": "Chưa đánh giá được", "en": "Not evaluated"},
    "missing": {"vi": "Chưa có kết quả", "en": "No result"},
    "attestation_missing": {"vi": "Chưa có minh chứng", "en": "No attestation"},
    **STATUS_LABELS,  # incident statuses
    "unknown_host": {"vi": "Máy lạ (không có trong danh mục)", "en": "Unknown host (not in inventory)"},
    "undeclared_ports": {"vi": "Cổng mở chưa khai báo", "en": "Undeclared open ports"},
    "not_seen": {"vi": "Máy trong danh mục không thấy hoạt động", "en": "Inventory host not seen"},
    "host_up": {"vi": "Máy mới xuất hiện", "en": "Host appeared"},
    "host_down": {"vi": "Máy không còn hoạt động", "en": "Host gone"},
    "port_opened": {"vi": "Cổng mới mở", "en": "Port opened"},
    "port_closed": {"vi": "Cổng đã đóng", "en": "Port closed"},
    "service_changed": {"vi": "Dịch vụ thay đổi", "en": "Service changed"},
    "os_changed": {"vi": "Hệ điều hành thay đổi", "en": "Operating system changed"},
    "open": {"vi": "Mở", "en": "Open"},
    "filtered": {"vi": "Bị lọc", "en": "Filtered"},
    "up": {"vi": "Hoạt động", "en": "Up"},
    "down": {"vi": "Không hoạt động", "en": "Down"},
}


def label(value: str | None) -> str:
    """The display text of a status or kind id in the current language (the id itself when unknown)."""
    if value is None:
        return ""
    return pick(LABELS[value]) if value in LABELS else value


@dataclass
class Report:
    """What a builder produces. ``data`` is the JSON (stable English keys); ``rows``/``columns`` the CSV."""

    kind: str
    title: str
    data: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)
    columns: Sequence[str] = ()
    view: dict[str, Any] = field(default_factory=dict)  # template-only values (charts), not exported
    lang: str = "vi"
    tz: str = DEFAULT_TZ
    generated_at: datetime = field(default_factory=utcnow)


@contextmanager
def language(lang: str) -> Iterator[None]:
    """Render in ``lang`` and restore the process language afterwards."""
    before = current_language()
    set_language(lang)
    try:
        yield
    finally:
        set_language(before)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return gettext(singular if n == 1 else plural)


def pct(value: float | None, digits: int = 0) -> str:
    """``83 %`` (Vietnamese and SI style: a space before the sign); an em dash when unknown."""
    if value is None:
        return "—"
    return f"{value * 100:.{digits}f} %"


def clip(value: Any, limit: int = 240) -> str:
    """A value as compact JSON, cut to ``limit`` characters: evidence stays readable (full data in JSON)."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@cache
def environment() -> Environment:
    """The jinja2 environment over the shipped ``reports/`` templates, with gettext from ``secops.i18n``."""
    env = Environment(
        loader=FileSystemLoader(str(data_dir("reports"))),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(date=fmt_date, datetime=fmt_datetime, pct=pct, pick=pick, label=label, clip=clip)
    return env


def render_html(report: Report) -> str:
    env = environment()
    css = (data_dir("reports") / "report.css").read_text(encoding="utf-8")
    with language(report.lang):
        return env.get_template(f"{report.kind}.html.j2").render(
            r=report.data,
            v=report.view,
            title=report.title,
            lang=report.lang,
            css=css,
            version=__version__,
            generated=fmt_datetime(report.generated_at, report.tz),
            dateline=long_date(report.generated_at, report.lang, report.tz),
            tz=report.tz,
        )


def render_pdf(report: Report) -> bytes:
    try:
        from weasyprint import HTML  # type: ignore[import-not-found,unused-ignore]
    except ImportError as exc:  # the ``pdf`` extra
        raise InputError("PDF output needs WeasyPrint: pip install 'secops[pdf]'") from exc

    def no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        raise ValueError(f"reports never fetch external resources: {url}")

    return bytes(HTML(string=render_html(report), url_fetcher=no_fetch).write_pdf())


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return "; ".join(_cell(v) for v in value)
    if isinstance(value, Mapping):
        return to_json(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def render_csv(report: Report) -> str:
    buf = io.StringIO()
    columns = list(report.columns) or (list(report.rows[0]) if report.rows else [])
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in report.rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return buf.getvalue()


def write(report: Report, fmt: str, out: Path) -> Path:
    """Write the report to ``out`` in ``fmt`` (parent directories are created)."""
    if fmt not in FORMATS:
        raise InputError(f"unknown report format {fmt!r}; use one of: {', '.join(FORMATS)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "pdf":
        out.write_bytes(render_pdf(report))
    elif fmt == "html":
        out.write_text(render_html(report), encoding="utf-8")
    elif fmt == "json":
        out.write_text(
            to_json(
                {
                    "report": report.kind,
                    "title": report.title,
                    "lang": report.lang,
                    "generated_at": report.generated_at,
                    **report.data,
                }
            )
            + "\n",
            encoding="utf-8",
        )
    else:
        out.write_text(render_csv(report), encoding="utf-8")
    return out
