"""Prometheus' HTTP API formats: its parameters (times, durations, limits) and its JSON answers.

Pure functions: parsing raises PromQLError("bad_data") with Prometheus' message for the
parameter and, where Prometheus gives none, how to fix it; formatting returns plain JSON data.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from tenantwatch.domain.durations import parse_duration as parse_duration_text
from tenantwatch.gotext.floats import format_json
from tenantwatch.promql.model import (
    ErrorType,
    MatrixResult,
    PromQLError,
    ScalarResult,
    Series,
    StringResult,
    Value,
    VectorResult,
    VectorSample,
)
from tenantwatch.types import Labels

# Prometheus' defaults for an open start or end (web/api/v1 MinTime and MaxTime)
MIN_TIME_MS = -9_223_309_901_257_974_000
MAX_TIME_MS = 9_223_309_901_257_974_999
MIN_TIME_TEXT = "-292273086-05-16T16:47:06Z"
MAX_TIME_TEXT = "292277025-08-18T07:12:54.999999999Z"
MAX_POINTS = 11_000
MAX_ANNOTATIONS = 10
TRUNCATED = "results truncated due to limit"

_FLOAT = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_DURATION_NS = 2**63 - 1
_TIME_HINT = "write unix seconds (1700000000.5) or RFC3339 (2024-01-02T15:04:05Z)"
_DURATION_HINT = "write seconds (15, 0.5) or a duration (15s, 5m, 1h30m)"

_STATUS: dict[str, int] = {
    "bad_data": 400,
    "execution": 422,
    "canceled": 503,
    "timeout": 503,
    "unavailable": 503,
    "not_found": 404,
    "not_acceptable": 406,
    "internal": 500,
}


def invalid(name: str, reason: str) -> PromQLError:
    """Prometheus' error for a bad request parameter."""
    return PromQLError("bad_data", f'invalid parameter "{name}": {reason}')


def _round_half_away(x: float) -> int:
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def parse_time(text: str, name: str) -> int:
    """Return the milliseconds of a time given as unix seconds or RFC3339.

    Unix seconds are rounded to the millisecond as Prometheus does; RFC3339 fractions are cut.
    Raise PromQLError(bad_data) naming the parameter when the text is neither or out of range.
    """
    if not text:
        raise invalid(name, f"required; {_TIME_HINT}")
    if _FLOAT.match(text):
        seconds = float(text)
        if not MIN_TIME_MS / 1000 <= seconds <= MAX_TIME_MS / 1000:
            raise invalid(name, f"{text!r} is outside the time range Prometheus supports")
        whole = math.trunc(seconds)
        return whole * 1000 + _round_half_away((seconds - whole) * 1000)
    if text == MIN_TIME_TEXT:
        return MIN_TIME_MS
    if text == MAX_TIME_TEXT:
        return MAX_TIME_MS
    m = _RFC3339.match(text)
    if m is None:
        raise invalid(name, f"cannot parse {text!r} to a valid timestamp; {_TIME_HINT}")
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    fraction, zone = m.group(7) or "", m.group(8)
    try:
        offset = timedelta(0)
        if zone not in ("Z", "z"):
            sign = 1 if zone[0] == "+" else -1
            offset = sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
        when = datetime(year, month, day, hour, minute, second, tzinfo=timezone(offset))
    except ValueError as exc:
        raise invalid(name, f"cannot parse {text!r} to a valid timestamp: {exc}") from None
    seconds_since = (when - _EPOCH) // timedelta(seconds=1)
    return seconds_since * 1000 + int((fraction + "000")[:3])


def parse_duration_ms(text: str, name: str) -> int:
    """Return the milliseconds of a duration given as float seconds or as `1h30m`.

    Raise PromQLError(bad_data) naming the parameter when it is neither or overflows.
    """
    if not text:
        raise invalid(name, f"required; {_DURATION_HINT}")
    if _FLOAT.match(text):
        ns = float(text) * 1e9
        if abs(ns) > _MAX_DURATION_NS:
            raise invalid(name, f"cannot parse {text!r} to a valid duration. It overflows int64")
        whole_ms = abs(int(ns)) // 1_000_000
        return whole_ms if ns >= 0 else -whole_ms
    if text.strip() != text:
        raise invalid(name, f"cannot parse {text!r} to a valid duration; {_DURATION_HINT}")
    try:
        seconds = parse_duration_text(text)
    except ValueError:
        raise invalid(
            name, f"cannot parse {text!r} to a valid duration; {_DURATION_HINT}"
        ) from None
    ms = round(seconds * 1000)
    if ms * 1_000_000 > _MAX_DURATION_NS:
        raise invalid(name, f"cannot parse {text!r} to a valid duration. It overflows int64")
    return ms


def parse_limit(text: str) -> int:
    """Return the `limit` parameter; 0 (also for an empty text) means no limit."""
    if not text:
        return 0
    if not re.fullmatch(r"[+-]?\d+", text):
        raise invalid(
            "limit", f"{text!r} is not a whole number; write e.g. limit=100 (0: no limit)"
        )
    limit = int(text)
    if limit < 0:
        raise invalid("limit", "limit must be non-negative")
    return limit


def check_range(start: int, end: int, step: int) -> None:
    """Refuse a range query Prometheus refuses, with its messages (all times in ms)."""
    if end < start:
        raise invalid("end", "end timestamp must not be before start time")
    if step <= 0:
        raise invalid(
            "step",
            "zero or negative query resolution step widths are not accepted. "
            "Try a positive integer",
        )
    if (end - start) // step > MAX_POINTS:
        raise PromQLError(
            "bad_data",
            "exceeded maximum resolution of 11,000 points per timeseries. "
            "Try decreasing the query resolution (?step=XX)",
        )


def unescape_label_name(name: str) -> str:
    """Decode Prometheus' `U__` value escaping of a label name (`U__a_2e_b` is `a.b`).

    A name without the prefix, or with a broken escape, is returned unchanged, as Prometheus does.
    """
    if not name.startswith("U__"):
        return name
    body, out, i = name[3:], [], 0
    while i < len(body):
        if body[i] != "_":
            out.append(body[i])
            i += 1
            continue
        end = body.find("_", i + 1)
        if end == i + 1:  # "__" is one underscore
            out.append("_")
            i += 2
            continue
        code = body[i + 1 : end] if end > 0 else ""
        if not 0 < len(code) < 6 or not re.fullmatch(r"[0-9a-fA-F]+", code):
            return name
        point = int(code, 16)
        if point > 0x10FFFF or 0xD800 <= point <= 0xDFFF:
            return name
        out.append(chr(point))
        i = end + 1
    return "".join(out)


def status_code(kind: ErrorType | str) -> int:
    """The HTTP status Prometheus answers an errorType with."""
    return _STATUS.get(kind, 500)


def failure(kind: ErrorType | str, message: str) -> dict[str, Any]:
    return {"status": "error", "errorType": kind, "error": message}


def success(data: Any, warnings: Sequence[str] = (), infos: Sequence[str] = ()) -> dict[str, Any]:
    """The success envelope; warnings and infos are left out when empty, as Prometheus does."""
    body: dict[str, Any] = {"status": "success", "data": data}
    if warnings:
        body["warnings"] = _capped(warnings, "warning")
    if infos:
        body["infos"] = _capped(infos, "info")
    return body


def _capped(notes: Sequence[str], kind: str) -> list[str]:
    kept = list(notes[:MAX_ANNOTATIONS])
    if len(notes) > MAX_ANNOTATIONS:
        kept.append(f"{len(notes) - MAX_ANNOTATIONS} more {kind} annotations omitted")
    return kept


def timestamp(t: int) -> int | float:
    """Milliseconds as the unix seconds Prometheus writes: 1700000000 or 1700000000.5."""
    return t // 1000 if t % 1000 == 0 else t / 1000


def metric(labels: Labels) -> dict[str, str]:
    return dict(labels)


def point(t: int, v: float) -> list[Any]:
    return [timestamp(t), format_json(v)]


def _sample(s: VectorSample) -> dict[str, Any]:
    return {"metric": metric(s.labels), "value": point(s.t, s.v)}


def _series(s: Series) -> dict[str, Any]:
    return {"metric": metric(s.labels), "values": [point(t, v) for t, v in s.points]}


def sort_matrix(value: Value) -> Value:
    """Order a matrix's series by their labels, as Prometheus does; other values unchanged."""
    if isinstance(value, MatrixResult):
        return MatrixResult(tuple(sorted(value.series, key=lambda s: s.labels)))
    return value


def truncate(value: Value, limit: int) -> tuple[Value, bool]:
    """Keep the first `limit` series of a vector or matrix; say whether any were dropped."""
    if limit <= 0:
        return value, False
    if isinstance(value, VectorResult) and len(value.samples) > limit:
        return VectorResult(value.samples[:limit]), True
    if isinstance(value, MatrixResult) and len(value.series) > limit:
        return MatrixResult(value.series[:limit]), True
    return value, False


def query_data(value: Value) -> dict[str, Any]:
    """`data` of a query answer: resultType and result. Vectors keep the engine's order."""
    if isinstance(value, ScalarResult):
        return {"resultType": "scalar", "result": point(value.t, value.v)}
    if isinstance(value, StringResult):
        return {"resultType": "string", "result": [timestamp(value.t), value.v]}
    if isinstance(value, VectorResult):
        return {"resultType": "vector", "result": [_sample(s) for s in value.samples]}
    return {"resultType": "matrix", "result": [_series(s) for s in value.series]}
