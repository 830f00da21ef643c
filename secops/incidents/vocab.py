"""Fixed vocabularies of incidents: categories (Circular 20 Form 05), statuses, flags, TLP, roles."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator

from secops.errors import InputError
from secops.i18n import pick


@dataclass(frozen=True)
class Category:
    id: str
    vi: str
    en: str
    rsit: str  # RSIT (ENISA / TF-CSIRT) top class


# The ten rows of Circular 20/2017 Form 05, Part 1, in the form's order.
CATEGORIES: dict[str, Category] = {
    c.id: c
    for c in (
        Category("dos", "Từ chối dịch vụ (DoS)", "Denial of service (DoS)", "availability"),
        Category("phishing", "Tấn công giả mạo", "Phishing / spoofing", "fraud"),
        Category("malware", "Tấn công sử dụng mã độc", "Malware attack", "malicious-code"),
        Category(
            "unauthorized_access",
            "Truy cập trái phép, chiếm quyền điều khiển",
            "Unauthorized access / takeover",
            "intrusions",
        ),
        Category("defacement", "Thay đổi giao diện", "Defacement", "information-content-security"),
        Category(
            "ransomware", "Mã hóa phần mềm, dữ liệu, thiết bị", "Ransomware / encryption", "malicious-code"
        ),
        Category(
            "destruction",
            "Phá hoại thông tin, dữ liệu, phần mềm",
            "Destruction of information, data, software",
            "availability",
        ),
        Category(
            "data_theft",
            "Nghe trộm, gián điệp, lấy cắp thông tin, dữ liệu",
            "Eavesdropping, espionage, data theft",
            "information-content-security",
        ),
        Category("combined", "Tấn công tổng hợp sử dụng kết hợp nhiều hình thức", "Combined attack", "other"),
        Category("other", "Các hình thức tấn công khác", "Other attacks", "other"),
    )
}

STATUSES = ("new", "triage", "containment", "eradication", "recovery", "closed")
STATUS_LABELS = {
    "new": {"vi": "Mới tiếp nhận", "en": "New"},
    "triage": {"vi": "Phân loại, xác minh", "en": "Triage"},
    "containment": {"vi": "Ngăn chặn", "en": "Containment"},
    "eradication": {"vi": "Xử lý, loại bỏ", "en": "Eradication"},
    "recovery": {"vi": "Khôi phục", "en": "Recovery"},
    "closed": {"vi": "Đã đóng", "en": "Closed"},
}
# Allowed moves. Recovery and eradication may go back to containment (Circular 20 Art. 11.3: "back to
# step 2 if the system is still unstable"); triage may close a false positive or duplicate at once.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("triage", "closed"),
    "triage": ("containment", "closed"),
    "containment": ("eradication", "recovery"),
    "eradication": ("recovery", "containment"),
    "recovery": ("closed", "containment"),
    "closed": ("triage",),  # reopen
}
RESOLUTIONS = ("resolved", "false_positive", "duplicate")
DETECTED_BY = ("ids", "log", "notified", "other")  # Form 03 "Cách thức phát hiện"

# Conditions a responder records. The first five are Decision 05 Art. 9.1 (a)–(đ).
SERIOUS_CONDITIONS = (
    "service_interruption",
    "secret_data",
    "unrecoverable_data",
    "loss_of_control",
    "spread",
)
FLAGS = (*SERIOUS_CONDITIONS, "personal_data", "exceeds_capacity")
FLAG_LABELS = {
    "service_interruption": {"vi": "Gián đoạn dịch vụ", "en": "Service interruption"},
    "secret_data": {"vi": "Có khả năng lộ thông tin bí mật nhà nước", "en": "State-secret data at risk"},
    "unrecoverable_data": {
        "vi": "Dữ liệu quan trọng mất toàn vẹn, không khôi phục được",
        "en": "Important data lost integrity, unrecoverable",
    },
    "loss_of_control": {"vi": "Mất quyền điều khiển hệ thống", "en": "Loss of control of the system"},
    "spread": {
        "vi": "Có thể lan rộng sang hệ thống cấp độ 4–5 khác",
        "en": "May spread to other level 4–5 systems",
    },
    "personal_data": {"vi": "Ảnh hưởng dữ liệu cá nhân", "en": "Personal data affected"},
    "exceeds_capacity": {"vi": "Vượt quá khả năng xử lý của đơn vị", "en": "Exceeds the unit's capacity"},
}

# TLP 2.0 (FIRST): labels in the order of increasing restriction.
TLP_LEVELS = ("clear", "green", "amber", "amber+strict", "red")

ROLES = {
    "incident_lead": {"vi": "Trưởng nhóm ứng cứu", "en": "Incident lead"},
    "analyst": {"vi": "Chuyên viên phân tích", "en": "Analyst"},
    "system_operator": {"vi": "Đơn vị vận hành hệ thống", "en": "System operator"},
    "system_owner": {"vi": "Cơ quan chủ quản", "en": "System owner"},
    "network_admin": {"vi": "Quản trị mạng", "en": "Network administrator"},
    "legal": {"vi": "Bộ phận pháp chế", "en": "Legal"},
    "communications": {"vi": "Bộ phận truyền thông", "en": "Communications"},
    "data_protection": {"vi": "Bộ phận bảo vệ dữ liệu cá nhân", "en": "Data protection officer"},
}

PHASE_LABELS = {
    "triage": {"vi": "Phân loại, xác minh", "en": "Triage"},
    "containment": {"vi": "Ngăn chặn", "en": "Containment"},
    "eradication": {"vi": "Xử lý, loại bỏ", "en": "Eradication"},
    "recovery": {"vi": "Khôi phục", "en": "Recovery"},
    "closure": {"vi": "Tổng kết, báo cáo", "en": "Closure"},
}
DEADLINE_STATUS_LABELS = {
    "open": {"vi": "Đang tính giờ", "en": "Running"},
    "overdue": {"vi": "Quá hạn", "en": "Overdue"},
    "sent": {"vi": "Đã gửi đúng hạn", "en": "Sent on time"},
    "sent_late": {"vi": "Đã gửi, trễ hạn", "en": "Sent late"},
    "waiting": {"vi": "Chưa bắt đầu tính", "en": "Not started"},
    "not_applicable": {"vi": "Không áp dụng", "en": "Not applicable"},
}
SERIOUS_DECISION_LABELS = {
    "confirmed": {"vi": "xác nhận", "en": "confirmed"},
    "rejected": {"vi": "bác bỏ", "en": "rejected"},
}

TASK_STATUS_LABELS = {
    "open": {"vi": "Đang mở", "en": "Open"},
    "done": {"vi": "Hoàn thành", "en": "Done"},
    "skipped": {"vi": "Bỏ qua", "en": "Skipped"},
    "not_applicable": {"vi": "Không áp dụng", "en": "Not applicable"},
}


def label(table: dict[str, dict[str, str]], key: str | None, lang: str | None = None) -> str:
    """The localized label of ``key`` in ``table`` (the key itself when unknown)."""
    if key is None:
        return ""
    return pick(table[key], lang) if key in table else key


def category_label(cat: str, lang: str | None = None) -> str:
    c = CATEGORIES.get(cat)
    if c is None:
        return cat
    return pick({"vi": c.vi, "en": c.en}, lang)


_DURATION = re.compile(r"^\s*(\d+)\s*(m|min|h|d)\s*$")
_UNIT_MINUTES = {"m": 1, "min": 1, "h": 60, "d": 1440}


def parse_duration(text: str | int) -> int:
    """``90m``, ``4h``, ``5d`` → minutes. Days are calendar days of 24 h (Vietnam keeps no summer time)."""
    m = _DURATION.match(str(text))
    if not m:
        raise InputError(f"not a duration (use e.g. 30m, 4h, 5d): {text!r}")
    return int(m.group(1)) * _UNIT_MINUTES[m.group(2)]


def _valid_offset(text: str) -> str:
    try:
        parse_duration(text)
    except InputError as exc:
        raise ValueError(str(exc)) from exc
    return text


# A due offset in data files ("4h", "5d"), checked when the file is validated.
Offset = Annotated[str, AfterValidator(_valid_offset)]


def choice(value: str, allowed: tuple[str, ...] | Mapping[str, object], what: str) -> str:
    """Check ``value`` is one of ``allowed``; the error lists them."""
    if value not in allowed:
        raise InputError(f"unknown {what} {value!r}; use one of: {', '.join(allowed)}")
    return value
