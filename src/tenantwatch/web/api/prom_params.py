"""The query API's request parameters: the form (POST body, then URL) and what it carries."""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import parse_qsl

from fastapi import Request

from tenantwatch.promql.model import Matcher, PromQLError
from tenantwatch.promql.selectors import parse_matchers
from tenantwatch.web.prom_format import (
    MAX_TIME_MS,
    MIN_TIME_MS,
    invalid,
    parse_duration_ms,
    parse_time,
)

DEFAULT_TIMEOUT_S = 120.0  # Prometheus' --query.timeout
MAX_FORM_BYTES = 10 << 20  # Go's net/http cap on a form body


@dataclass(frozen=True)
class Form:
    """Request parameters: a POST form body's first, then the URL's (as Go's r.Form)."""

    items: list[tuple[str, str]]

    def get(self, name: str) -> str:
        return next((v for k, v in self.items if k == name), "")

    def getlist(self, name: str) -> list[str]:
        return [v for k, v in self.items if k == name]


async def read_form(request: Request) -> Form:
    """Return the parameters; raise bad_data for a form body that is too large or not UTF-8."""
    items: list[tuple[str, str]] = []
    ctype = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if request.method == "POST" and ctype == "application/x-www-form-urlencoded":
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_FORM_BYTES:
                raise PromQLError("bad_data", "error parsing form values: body over 10 MiB")
        try:
            text = body.decode()
        except UnicodeDecodeError:
            raise PromQLError("bad_data", "error parsing form values: body is not UTF-8") from None
        items = parse_qsl(text, keep_blank_values=True)
    return Form(items + request.query_params.multi_items())


def now_ms() -> int:
    return int(time.time() * 1000)


def timeout_of(form: Form) -> float:
    text = form.get("timeout")
    if not text:
        return DEFAULT_TIMEOUT_S
    return min(parse_duration_ms(text, "timeout") / 1000, DEFAULT_TIMEOUT_S)


def lookback_of(form: Form) -> int | None:
    text = form.get("lookback_delta")
    if not text:
        return None
    ms = parse_duration_ms(text, "lookback_delta")
    return ms if ms > 0 else None


def expression_of(form: Form) -> str:
    query = form.get("query")
    if not query.strip():
        raise invalid("query", "no expression given; pass query=<PromQL expression>")
    return query


def selectors_of(form: Form) -> list[list[Matcher]]:
    try:
        return [parse_matchers(text) for text in form.getlist("match[]")]
    except PromQLError as exc:
        raise invalid("match[]", exc.message) from None


def span_of(form: Form) -> tuple[int, int]:
    start, end = form.get("start"), form.get("end")
    return (
        parse_time(start, "start") if start else MIN_TIME_MS,
        parse_time(end, "end") if end else MAX_TIME_MS,
    )
