"""Input limits (settings.SHAOZI["LIMITS"]) and the checks every entry point shares.

Each breach is an `InputError` with its own status and code; the API's exception handler, the Open311 views and
the error middleware (config/errors.py) turn it into their error shape. The limits and their codes are listed in
docs/security.md ("Limits and error responses").
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from django.conf import settings

from geo.errors import CodedError

# PostgreSQL cannot store a NUL character in text, and a lone surrogate is not Unicode (it cannot be encoded
# as UTF-8): either reaching the database would fail the request with a 500.
BAD_TEXT = "[\x00\ud800-\udfff]"
_BAD_TEXT = re.compile(BAD_TEXT)


class InputError(CodedError):
    """Input past a limit or unusable as text; `code`, a zh-Hans/English `message`, `details`, HTTP `status`."""


def limit(name: str) -> Any:
    """One input limit from settings.SHAOZI["LIMITS"]."""
    return settings.SHAOZI["LIMITS"][name]


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored as text (a NUL character, a lone surrogate), or None when it can."""
    found = _BAD_TEXT.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "含 NUL 字符 contains a NUL character"
    return "含孤立代理项（非 Unicode）contains a lone surrogate (not Unicode)"


def clean_text(value: str) -> str:
    """`value` with NUL characters and lone surrogates replaced (U+FFFD), e.g. a library's error message."""
    return _BAD_TEXT.sub("\ufffd", value)


def check_text(value: str, name: str, *, max_chars: int | None = None) -> str:
    """`value` unchanged when it is storable text within `max_chars` (default FIELD_CHARS); InputError if not."""
    problem = text_problem(value)
    if problem is not None:
        raise InputError("invalid_text", f"{name} 文本无效 invalid text: {problem}", {name: problem})
    max_chars = limit("FIELD_CHARS") if max_chars is None else max_chars
    if len(value) > max_chars:
        raise InputError(
            "field_too_long",
            f"{name} 过长 longer than {max_chars} characters",
            {name: f"最多 at most {max_chars} characters", "max_chars": max_chars},
        )
    return value


def loads(data: bytes | str, *, walk: bool = True) -> Any:
    """Parse a JSON document within the limits: nesting depth (JSON_DEPTH) and, with `walk`, every string (keys
    too) storable and at most FIELD_CHARS long. InputError invalid_json / json_too_deep / invalid_text /
    field_too_long."""
    try:
        value = json.loads(data)
    except RecursionError:
        # The parser recurses once per level: a document nested thousands deep exhausts the stack.
        raise InputError(*_too_deep()) from None
    except UnicodeDecodeError as exc:
        raise InputError("invalid_encoding", "请求体须为 UTF-8 body must be UTF-8", {"position": exc.start}) from None
    except ValueError as exc:
        raise InputError("invalid_json", f"JSON 无效 invalid JSON: {exc}", {}) from None
    if walk:
        check_json(value)
    return value


def _too_deep() -> tuple[str, str, dict]:
    depth = limit("JSON_DEPTH")
    return "json_too_deep", f"JSON 嵌套过深 nested deeper than {depth} levels", {"max_depth": depth}


def check_json(value: Any) -> None:
    """Depth and text checks of a parsed JSON value (iterative: a deep document must not exhaust the stack)."""
    max_depth = limit("JSON_DEPTH")
    max_chars = limit("FIELD_CHARS")
    stack: list[tuple[Any, int, str]] = [(value, 1, "")]
    while stack:
        item, depth, path = stack.pop()
        if isinstance(item, str):
            check_text(item, path or "body", max_chars=max_chars)
        elif isinstance(item, dict | list):
            if depth > max_depth:
                raise InputError(*_too_deep())
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in pairs:
                name = f"{path}.{key}" if path else str(key)
                if isinstance(key, str):
                    check_text(key, name, max_chars=max_chars)
                stack.append((child, depth + 1, name))


def date_bounds() -> tuple[dt.date, dt.date]:
    """The earliest and latest day input may name (DATE_MIN, DATE_MAX)."""
    return dt.date.fromisoformat(limit("DATE_MIN")), dt.date.fromisoformat(limit("DATE_MAX"))


def date_problem(value: dt.date | dt.datetime) -> str | None:
    """Why a date or time given as input is out of bounds, or None when it is within them."""
    low, high = date_bounds()
    day = value.date() if isinstance(value, dt.datetime) else value
    if low <= day <= high:
        return None
    return f"须在 must be within {low.isoformat()}..{high.isoformat()}"


def check_date(value, name: str):
    """`value` unchanged when within DATE_MIN..DATE_MAX; InputError date_out_of_range if not."""
    problem = date_problem(value)
    if problem is not None:
        raise InputError("date_out_of_range", f"{name} 超出日期范围 out of range: {problem}", {name: str(value)})
    return value
