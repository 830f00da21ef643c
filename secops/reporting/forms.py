"""Official forms of Circular 20/2017/TT-BTTTT, Appendix I: Form 03 (initial incident report), Form 04
(final report) and Form 05 (six-month or yearly summary). Labels are the forms' own Vietnamese text
(regulation notes §3.6), kept verbatim; English is a translation for readers only.

The reporting organization and its contact person come from the ``[organization]`` section of the config
file and nothing is ever invented: a mandatory (*) field left empty is listed by ``missing`` and the command
refuses to write the form unless it is asked for a draft.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from secops.errors import InputError
from secops.i18n import pick
from secops.incidents import evidence, reports, timeline
from secops.incidents.lifecycle import systems_of
from secops.incidents.stats import parse_period
from secops.incidents.vocab import CATEGORIES
from secops.models import Agency, Host
from secops.models.incident import Incident
from secops.reporting.dates import fmt_date
from secops.reporting.render import Report
from secops.timeutil import DEFAULT_TZ, local, utcnow

T = dict[str, str]
ORG_KEYS = ("name", "address", "phone", "email", "member_code", "security_provider", "isp", "representative")
CONTACT_KEYS = ("name", "position", "phone", "email")


@dataclass
class Field:
    key: str
    label: T
    value: Any = None
    mandatory: bool = False
    options: list[tuple[T, bool]] = field(default_factory=list)  # checkboxes: (label, ticked)

    @property
    def empty(self) -> bool:
        if self.options:
            return not any(t for _, t in self.options)
        return self.value is None or (isinstance(self.value, str) and not self.value.strip())


@dataclass
class Section:
    title: T
    fields: list[Field]


def organization(settings_section: Mapping[str, Any]) -> dict[str, str]:
    """``[organization]`` keys, plus ``contact_*`` from flat keys or an ``[organization.contact]`` table."""
    org = {k: str(settings_section.get(k) or "").strip() for k in ORG_KEYS}
    nested = settings_section.get("contact")
    nested = nested if isinstance(nested, Mapping) else {}
    for k in CONTACT_KEYS:
        org[f"contact_{k}"] = str(settings_section.get(f"contact_{k}") or nested.get(k) or "").strip()
    return org


def _v(vi: str, en: str) -> T:
    return {"vi": vi, "en": en}


REPORTER = _v("THÔNG TIN VỀ TỔ CHỨC/CÁ NHÂN BÁO CÁO SỰ CỐ", "REPORTING ORGANIZATION OR PERSON")
SYSTEM = _v("THÔNG TIN CHI TIẾT VỀ HỆ THỐNG BỊ SỰ CỐ", "DETAILS OF THE AFFECTED SYSTEM")
SIGNATURE = _v(
    "CÁ NHÂN/NGƯỜI ĐẠI DIỆN THEO PHÁP LUẬT (Ký tên, đóng dấu)",
    "INDIVIDUAL / LEGAL REPRESENTATIVE (signature and stamp)",
)


def _operator_and_owner(c: dict[str, Any]) -> list[Field]:
    """The first two lines of the system section, the same in Forms 03 and 04."""
    return [
        Field(
            "operator",
            _v("Tên đơn vị vận hành hệ thống thông tin", "Operating unit of the system"),
            "; ".join(c["operators"]),
            True,
        ),
        Field("owner", _v("Cơ quan chủ quản", "Owner agency"), "; ".join(c["owners"])),
    ]


def _reporter(org: dict[str, str]) -> list[Field]:
    return [
        Field(
            "org_name",
            _v("Tên tổ chức/cá nhân báo cáo sự cố", "Name of the reporting organization/person"),
            org["name"],
            True,
        ),
        Field("org_address", _v("Địa chỉ", "Address"), org["address"], True),
        Field("org_phone", _v("Điện thoại", "Phone"), org["phone"], True),
        Field("org_email", _v("Email", "Email"), org["email"], True),
    ]


def _level_boxes(level: int | None) -> list[tuple[T, bool]]:
    return [(_v(f"Cấp độ {n}", f"Level {n}"), level == n) for n in range(1, 6)]


def _discovery_fields(inc: Incident, tz: str, lang: str) -> list[Field]:
    """Date and time of discovery: the same mandatory (*) pair on Forms 03 and 04."""
    return [
        Field("detected_date", _v("Ngày phát hiện sự cố", "Date of discovery"), fmt_date(inc.detected_at, tz), True),
        Field("detected_time", _v("Thời gian phát hiện", "Time of discovery"), _time_text(inc.detected_at, tz, lang),
              True),
    ]


def _time_text(value: datetime, tz: str, lang: str) -> str:
    shown = local(value, tz)
    return f"{shown.hour:02d} giờ {shown.minute:02d} phút" if lang == "vi" else f"{shown.hour:02d}:{shown.minute:02d}"


def _incident_context(session: Session, code: str) -> dict[str, Any]:
    incident = timeline.get_incident(session, code)
    linked = systems_of(session, incident)
    agencies = {a.id: a.name for a in session.exec(select(Agency))}
    sids = [s.id for s, _ in linked]
    hosts = list(session.exec(select(Host).where(col(Host.system_id).in_(sids)).order_by(col(Host.name))))
    levels = [s.effective_level for s, _ in linked if s.effective_level is not None]
    return {
        "incident": incident,
        "systems": [s for s, _ in linked],
        "operators": sorted({agencies[s.operator_id] for s, _ in linked if s.operator_id in agencies}),
        "owners": sorted({agencies[s.owner_id] for s, _ in linked if s.owner_id in agencies}),
        "hosts": hosts,
        "level": max(levels) if levels else None,
        "reports": reports.reports_of(session, incident),
        "evidence": evidence.list_evidence(session, incident),
    }


def _public(addresses: list[str]) -> list[str]:
    """Only public addresses go on the form (the form says: do not list internal IPs)."""
    out = []
    for a in addresses:
        try:
            if ipaddress.ip_address(a).is_global:
                out.append(a)
        except ValueError:
            continue
    return out


def _sent_to(sent: list[Any]) -> tuple[list[tuple[T, bool]], str]:
    text = "; ".join(sorted({r.recipients for r in sent if r.kind in ("notification", "form03")}))
    low = text.lower()
    coordinator = any(k in low for k in ("vncert", "điều phối", "coordinat", "a05", "ncsc"))
    isp = "isp" in low or "nhà cung cấp" in low
    member = bool(text) and not (
        coordinator
        and not any(k in low for k in ("ubnd", "sở", "csirt", "đội", "thành viên", "member", "owner", "chủ quản"))
    )
    return [
        (
            _v(
                "Thành viên mạng lưới chịu trách nhiệm ứng cứu sự cố cho tổ chức, cá nhân",
                "Network member responsible for incident response for the organization",
            ),
            member,
        ),
        (_v("ISP đang trực tiếp cung cấp dịch vụ", "The ISP providing the service"), isp),
        (_v("Cơ quan điều phối", "The coordinating body"), coordinator),
    ], text


def form03(session: Session, code: str, org: dict[str, str], lang: str, now: datetime, tz: str) -> list[Section]:
    c = _incident_context(session, code)
    inc: Incident = c["incident"]
    boxes, recipients = _sent_to(c["reports"])
    names = "; ".join(f"{s.name} ({s.code})" for s in c["systems"])
    services = sorted({str(p) for h in c["hosts"] for p in (h.services or [])})
    oses = sorted({h.os for h in c["hosts"] if h.os})
    return [
        Section(REPORTER, _reporter(org)),
        Section(
            _v("NGƯỜI LIÊN HỆ", "CONTACT PERSON"),
            [
                Field("contact_name", _v("Họ và tên", "Full name"), org["contact_name"], True),
                Field("contact_position", _v("Chức vụ", "Position"), org["contact_position"]),
                Field("contact_phone", _v("Điện thoại", "Phone"), org["contact_phone"], True),
                Field("contact_email", _v("Email", "Email"), org["contact_email"], True),
            ],
        ),
        Section(
            SYSTEM,
            [
                *_operator_and_owner(c),
                Field("system", _v("Tên hệ thống bị sự cố", "Affected system"), names),
                Field(
                    "level",
                    _v("Phân loại cấp độ của hệ thống thông tin (nếu có)", "Security level (if any)"),
                    options=_level_boxes(c["level"]),
                ),
                Field(
                    "security_provider",
                    _v("Tổ chức cung cấp dịch vụ an toàn thông tin (nếu có)", "Security service provider (if any)"),
                    org["security_provider"],
                ),
                Field(
                    "isp",
                    _v(
                        "Tên nhà cung cấp dịch vụ kết nối bên ngoài (nếu có)", "External connectivity provider (if any)"
                    ),
                    org["isp"],
                ),
                Field(
                    "description",
                    _v("Mô tả sơ bộ về sự cố", "Short description of the incident"),
                    "\n".join(x for x in (inc.title, inc.detail) if x),
                    True,
                ),
                *_discovery_fields(inc, tz, lang),
                Field(
                    "state",
                    _v("HIỆN TRẠNG SỰ CỐ", "INCIDENT STATUS"),
                    mandatory=True,
                    options=[
                        (_v("Đã được xử lý", "Handled"), inc.status == "closed"),
                        (_v("Chưa được xử lý", "Not handled"), inc.status != "closed"),
                    ],
                ),
            ],
        ),
        Section(
            _v("CÁCH THỨC PHÁT HIỆN", "HOW IT WAS DETECTED"),
            [
                Field(
                    "detected_by",
                    _v("Cách thức phát hiện", "Detection method"),
                    mandatory=True,
                    options=[
                        (
                            _v("Qua hệ thống phát hiện xâm nhập (IDS)", "Intrusion detection system (IDS)"),
                            inc.detected_by == "ids",
                        ),
                        (
                            _v("Kiểm tra dữ liệu lưu lại (Log File)", "Reviewing stored data (log files)"),
                            inc.detected_by == "log",
                        ),
                        (_v("Nhận được thông báo từ: …", "Notified by: …"), inc.detected_by == "notified"),
                        (_v("Khác, đó là …", "Other: …"), inc.detected_by == "other"),
                    ],
                ),
            ],
        ),
        Section(
            _v("ĐÃ GỬI THÔNG BÁO SỰ CỐ CHO", "INCIDENT NOTIFICATION ALREADY SENT TO"),
            [
                Field(
                    "notified",
                    _v("Đã gửi thông báo sự cố cho", "Notification sent to"),
                    recipients or None,
                    True,
                    boxes,
                ),
            ],
        ),
        Section(
            _v("THÔNG TIN BỔ SUNG VỀ HỆ THỐNG XẢY RA SỰ CỐ", "ADDITIONAL INFORMATION ON THE SYSTEM"),
            [
                Field("os", _v("Hệ điều hành … Version", "Operating system and version"), ", ".join(oses)),
                Field("services", _v("Các dịch vụ có trên hệ thống", "Services on the system"), ", ".join(services)),
                Field(
                    "ips",
                    _v("Các địa chỉ IP của hệ thống", "Public IP addresses of the system"),
                    ", ".join(_public([h.address for h in c["hosts"]])),
                ),
                Field("domains", _v("Các tên miền của hệ thống", "Domain names of the system"), None),
                Field(
                    "purpose",
                    _v("Mục đích chính sử dụng hệ thống", "Main purpose of the system"),
                    "; ".join(s.description for s in c["systems"] if s.description),
                ),
                Field(
                    "attachments",
                    _v("Thông tin gửi kèm", "Attached information"),
                    "; ".join(f"{e.name} (SHA-256 {e.sha256[:16]}…)" for e in c["evidence"]),
                ),
                Field(
                    "confidential",
                    _v(
                        "Các thông tin cung cấp trong thông báo sự cố này đều phải được giữ bí mật",
                        "The information in this report must be kept confidential",
                    ),
                    options=[
                        (_v("Có", "Yes"), inc.tlp in ("amber", "amber+strict", "red")),
                        (_v("Không", "No"), inc.tlp in ("clear", "green")),
                    ],
                ),
            ],
        ),
        Section(
            _v("KIẾN NGHỊ, ĐỀ XUẤT HỖ TRỢ", "REQUESTS FOR SUPPORT"),
            [
                Field(
                    "requests",
                    _v("Mô tả về đề xuất, kiến nghị", "Recommendations and support requested"),
                    pick(
                        _v(
                            "Đề nghị hỗ trợ xử lý: sự cố vượt quá khả năng xử lý của đơn vị.",
                            "Support requested: the incident exceeds the unit's capacity.",
                        ),
                        lang,
                    )
                    if "exceeds_capacity" in inc.flags
                    else None,
                ),
            ],
        ),
        Section(
            _v("THỜI GIAN THỰC HIỆN BÁO CÁO SỰ CỐ", "TIME OF THIS REPORT"),
            [
                Field(
                    "reported_at",
                    _v("Thời gian thực hiện báo cáo sự cố", "Time of this report"),
                    local(now, tz).strftime("%d/%m/%Y/%H/%M"),
                    True,
                ),
            ],
        ),
    ]


def form04(session: Session, code: str, org: dict[str, str], lang: str, now: datetime, tz: str) -> list[Section]:
    c = _incident_context(session, code)
    inc: Incident = c["incident"]
    initial = next((r for r in c["reports"] if r.kind == "form03"), None)
    resolution = {
        "resolved": _v("Đã xử lý xong", "Resolved"),
        "false_positive": _v("Cảnh báo nhầm", "False positive"),
        "duplicate": _v("Trùng với sự cố khác", "Duplicate"),
    }
    result = pick(resolution[inc.resolution], lang) if inc.resolution in resolution else None
    return [
        Section(_v("THÔNG TIN VỀ TỔ CHỨC/CÁ NHÂN BÁO CÁO", "REPORTING ORGANIZATION OR PERSON"), _reporter(org)),
        Section(
            _v("KÝ HIỆU BÁO CÁO BAN ĐẦU SỰ CỐ", "REFERENCE OF THE INITIAL REPORT"),
            [
                Field("initial_ref", _v("Số ký hiệu", "Reference number"), initial.ref if initial else None),
                Field(
                    "initial_date",
                    _v("Ngày báo cáo", "Date of the report"),
                    fmt_date(initial.sent_at, tz) if initial else None,
                ),
            ],
        ),
        Section(
            SYSTEM,
            [
                *_operator_and_owner(c),
                Field(
                    "system",
                    _v("Tên hệ thống bị sự cố", "Affected system"),
                    "; ".join(f"{s.name} ({s.code})" for s in c["systems"]),
                ),
                Field("level", _v("Phân loại cấp độ", "Security level"), options=_level_boxes(c["level"])),
                Field(
                    "description",
                    _v("Tên/Mô tả về sự cố", "Name/description of the incident"),
                    "\n".join(x for x in (inc.title, inc.detail) if x),
                ),
                *_discovery_fields(inc, tz, lang),
                Field("result", _v("Kết quả xử lý sự cố", "Result of the response"), result),
                Field(
                    "attachments",
                    _v("Các tài liệu đính kèm", "Attached documents"),
                    "; ".join(f"{e.name} (SHA-256 {e.sha256[:16]}…)" for e in c["evidence"]),
                ),
            ],
        ),
    ]


FORM05_COLUMNS = (
    ("count", _v("Số lượng", "Count")),
    ("self_handled", _v("Số sự cố tự xử lý", "Handled in-house")),
    ("domestic_support", _v("Số sự cố có sự hỗ trợ xử lý từ các tổ chức khác", "With help of other organizations")),
    ("foreign_support", _v("Số sự cố có sự hỗ trợ xử lý từ tổ chức nước ngoài", "With help of foreign organizations")),
    ("vncert_requested", _v("Số sự cố đề nghị VNCERT hỗ trợ", "VNCERT assistance requested")),
    ("damage", _v("Thiệt hại ước tính", "Estimated damage")),
)


def form05(
    session: Session, period_text: str, org: dict[str, str], lang: str, tz: str
) -> tuple[list[Section], dict[str, Any]]:
    """Counts per Form 05 category for a half year (``2026H1``) or a year (``2026``)."""
    period = parse_period(period_text, tz)
    if not (period.label.isdigit() or period.label[4:] in ("H1", "H2")):
        raise InputError(f"Form 05 covers six months or a year: use e.g. 2026H1, 2026H2 or 2026, not {period_text!r}")
    incidents = list(
        session.exec(
            select(Incident)
            .where(col(Incident.detected_at) >= period.start, col(Incident.detected_at) < period.end)
            .order_by(col(Incident.code))
        )
    )
    table: list[dict[str, Any]] = []
    for cid, cat in CATEGORIES.items():
        mine = [i for i in incidents if i.category == cid]
        table.append(
            {
                "category": cid,
                "label": pick({"vi": cat.vi, "en": cat.en}, lang),
                "count": len(mine),
                "self_handled": sum(1 for i in mine if "exceeds_capacity" not in i.flags),
                "vncert_requested": sum(1 for i in mine if "exceeds_capacity" in i.flags),
                "domestic_support": None,
                "foreign_support": None,
                "damage": None,
            }
        )
    total = {k: sum(int(r[k]) for r in table) for k in ("count", "self_handled", "vncert_requested")}
    table.append(
        {
            "category": "total",
            "label": pick(_v("Tổng số", "Total"), lang),
            **total,
            "domestic_support": None,
            "foreign_support": None,
            "damage": None,
        }
    )
    start, end = local(period.start, tz), local(period.end, tz)
    last = (end.month - 2) % 12 + 1, end.year if end.month > 1 else end.year - 1
    sections = [
        Section(
            _v("THÔNG TIN CƠ QUAN/TỔ CHỨC", "ORGANIZATION"),
            [
                Field("org_name", _v("Tên cơ quan/tổ chức", "Organization"), org["name"], True),
                Field("org_address", _v("Địa chỉ", "Address"), org["address"], True),
                Field("member_code", _v("Mã thành viên mạng lưới", "Network member code"), org["member_code"], True),
            ],
        )
    ]
    meta = {
        "period": period.label,
        "from": f"{start.month:02d}/{start.year}",
        "to": f"{last[0]:02d}/{last[1]}",
        "half": not period.label.isdigit(),
        "table": table,
        "incidents": [i.code for i in incidents],
    }
    return sections, meta


def missing(sections: list[Section], lang: str) -> list[str]:
    """Labels of the empty mandatory fields, each with its section (the same label occurs in two sections)."""
    return [
        f"{pick(s.title, lang)}: {pick(f.label, lang)}" for s in sections for f in s.fields if f.mandatory and f.empty
    ]


FORM_TITLES = {
    "form03": _v("BÁO CÁO BAN ĐẦU SỰ CỐ MẠNG", "INITIAL INCIDENT REPORT"),
    "form04": _v("BÁO CÁO KẾT THÚC ỨNG PHÓ SỰ CỐ", "FINAL INCIDENT RESPONSE REPORT"),
    "form05": _v(
        "BÁO CÁO TỔNG HỢP VỀ HOẠT ĐỘNG TIẾP NHẬN VÀ XỬ LÝ SỰ CỐ", "SUMMARY REPORT ON RECEIVING AND HANDLING INCIDENTS"
    ),
}
FORM_NUMBERS = {"form03": "Mẫu số 03", "form04": "Mẫu số 04", "form05": "Mẫu số 05"}


def build_form(
    session: Session,
    kind: str,
    subject: str,
    org_section: Mapping[str, Any],
    lang: str,
    *,
    draft: bool = False,
    now: datetime | None = None,
    tz: str = DEFAULT_TZ,
) -> Report:
    """Form ``form03``/``form04`` for incident ``subject`` or ``form05`` for period ``subject``.

    Raises InputError listing the empty mandatory fields unless ``draft``."""
    now = now or utcnow()
    org = organization(org_section)
    meta: dict[str, Any] = {}
    if kind == "form03":
        sections = form03(session, subject, org, lang, now, tz)
    elif kind == "form04":
        sections = form04(session, subject, org, lang, now, tz)
    else:
        sections, meta = form05(session, subject, org, lang, tz)
    gaps = missing(sections, lang)
    if gaps and not draft:
        raise InputError(
            "mandatory (*) fields are empty: "
            + "; ".join(gaps)
            + " (set them in the [organization] section of secops.toml or record them on the incident;"
            " --draft writes the form anyway)"
        )
    title = pick(FORM_TITLES[kind], lang)
    if kind == "form05":
        span = pick(_v("06 THÁNG", "SIX-MONTH") if meta["half"] else _v("01 NĂM", "ANNUAL"), lang)
        title = title.replace("TỔNG HỢP", f"TỔNG HỢP {span}") if lang == "vi" else f"{span} {title}"
    fields = [
        {
            "section": pick(s.title, lang),
            "key": f.key,
            "label": pick(f.label, lang),
            "mandatory": f.mandatory,
            "value": f.value,
            "options": [{"label": pick(lbl, lang), "checked": t} for lbl, t in f.options],
        }
        for s in sections
        for f in s.fields
    ]
    data = {
        "form": kind,
        "number": FORM_NUMBERS[kind],
        "subject": subject,
        "draft": bool(gaps),
        "missing": gaps,
        "sections": [
            {"title": pick(s.title, lang), "fields": [x for x in fields if x["section"] == pick(s.title, lang)]}
            for s in sections
        ],
        "representative": org["representative"],
        "signature": pick(SIGNATURE, lang),
        "organization": org["name"],
        "reported_at": now,
        **meta,
    }
    if kind == "form05":
        data["columns"] = [{"key": k, "label": pick(v, lang)} for k, v in FORM05_COLUMNS]
        rows = [{k: r.get(k) for k in ("category", "label", *(c for c, _ in FORM05_COLUMNS))} for r in meta["table"]]
        columns: tuple[str, ...] = ("category", "label", *(c for c, _ in FORM05_COLUMNS))
    else:
        rows = [
            {
                "section": f["section"],
                "field": f["key"],
                "label": f["label"],
                "mandatory": f["mandatory"],
                "value": f["value"]
                if not f["options"]
                else ", ".join(o["label"] for o in f["options"] if o["checked"]),
            }
            for f in fields
        ]
        columns = ("section", "field", "label", "mandatory", "value")
    return Report(kind, title, data, rows=rows, columns=columns, lang=lang, tz=tz, generated_at=now)
