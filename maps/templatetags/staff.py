"""Template helpers for the staff pages: codes in words (zh-Hans and English spans), Beijing time, time left."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html, format_html_join

from complaints.constants import OPEN_STATUSES
from maps.labels import CHANGE_KEYS, label

register = template.Library()


def _both(zh: str, en: str):
    if zh == en:
        return format_html("{}", zh)
    return format_html('<span class="zh">{}</span><span class="en">{}</span>', zh, en)


@register.simple_tag
def words(kind: str, code):
    """`{% words "status" complaint.status %}` → the status in zh-Hans and English, never the code."""
    return _both(*label(kind, code))


@register.simple_tag
def zh_en(zh: str, en: str):
    """`{% zh_en "签收" "Accept" %}` → both spans."""
    return _both(zh, en)


def _as_datetime(value) -> dt.datetime | None:
    if isinstance(value, str):
        value = parse_datetime(value)
    if isinstance(value, dt.datetime):
        if timezone.is_naive(value):
            value = timezone.make_aware(value, dt.UTC)
        return timezone.localtime(value)
    return None


@register.filter
def bjt(value, seconds: bool = False) -> str:
    """A datetime (or an ISO string from stored JSON) in Beijing time: 2026-12-02 08:18."""
    moment = _as_datetime(value)
    if moment is None:
        return value or "—"
    return moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def _open(status) -> bool:
    return status in OPEN_STATUSES if isinstance(status, str) else bool(status)


@register.simple_tag
def time_left(deadline, status="received"):
    """Time to the deadline in words (剩余 3 小时 / 超期 2 天), or — when there is none or the case is done."""
    if deadline is None or not _open(status):
        return "—"
    delta = deadline - timezone.now()
    late = delta.total_seconds() < 0
    seconds = abs(delta.total_seconds())
    if seconds >= 86400:
        amount_zh, amount_en = f"{seconds / 86400:.1f} 天", f"{seconds / 86400:.1f} days"
    elif seconds >= 3600:
        amount_zh, amount_en = f"{seconds / 3600:.1f} 小时", f"{seconds / 3600:.1f} h"
    else:
        amount_zh, amount_en = f"{seconds / 60:.0f} 分钟", f"{seconds / 60:.0f} min"
    if late:
        return _both(f"超期 {amount_zh}", f"{amount_en} overdue")
    return _both(f"剩余 {amount_zh}", f"{amount_en} left")


@register.simple_tag
def deadline_class(deadline, status="received") -> str:
    """CSS class for a deadline: overdue, due (within 24 h) or ok (or done: the complaint is no longer open)."""
    if deadline is None or not _open(status):
        return "ok"
    left = (deadline - timezone.now()).total_seconds()
    return "overdue" if left < 0 else ("due" if left < 86400 else "ok")


def _value(key: str, value, names: dict):
    if isinstance(value, bool):
        return "是 yes" if value else "否 no"
    if isinstance(value, list):
        if len(value) == 2 and key == "status":
            kind = "case_status" if "closed" in value and "ruled" not in value else "dispute_status"
            return " → ".join(label(kind, v)[0] if v else "—" for v in value)
        return "、".join(str(_value(key, v, names)) for v in value) or "—"
    if value is None:
        return "—"
    text = str(value)
    if text in names:
        return f"{names[text]}"
    return text


@register.simple_tag
def changes(entry_changes, names=None):
    """An audit entry's changes in words: 状态：待处理 → 审查中；主办：广安门外街道 …"""
    names = names or {}
    if not isinstance(entry_changes, dict) or not entry_changes:
        return "—"
    return format_html_join(
        "",
        '<span class="change"><span class="zh">{}</span><span class="en">{}</span>：{}</span> ',
        (
            (*CHANGE_KEYS.get(key, (key, key)), _value(key, value, names))
            for key, value in entry_changes.items()
            if key != "contested_codes" or value
        ),
    )


@register.filter
def name_of(code, names):
    """The area's name for a code, from a {code: name} map (the code itself when unknown)."""
    return (names or {}).get(code, code) if code else "—"
