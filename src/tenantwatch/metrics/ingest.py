"""Pushed and remote-written bodies to what the store takes, within the ingest limits.

Everything here is CPU work on bytes that are already in memory (unpacking, parsing,
checking), so the web layer runs it in a worker thread: a large body never holds the
event loop. Bodies are unpacked incrementally and given up on once past the unpacked
limit, so a small gzip bomb costs at most that many bytes.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from itertools import pairwise

from tenantwatch.domain.durations import format_duration
from tenantwatch.domain.text import size_text
from tenantwatch.metrics.exposition import (
    ExpositionError,
    decode_exposition,
    is_openmetrics,
    metric_types,
    parse_text,
)
from tenantwatch.metrics.limits import (
    DUPLICATE,
    OUT_OF_BOUNDS,
    TOO_MANY_LINES,
    TOO_MANY_SERIES,
    TOO_OLD,
    UNPACKED_TOO_LARGE,
    IngestLimits,
    Rejected,
    check_label_limits,
    duplicate_message,
    same_value,
    show_series,
)
from tenantwatch.metrics.push_groups import build_families
from tenantwatch.metrics.remote_write import (
    RemoteWriteError,
    RemoteWriteTooLarge,
    TimeSeries,
    decode_write_request_contents,
)
from tenantwatch.metrics.tenancy import ForeignTenant, bind_tenant
from tenantwatch.types import Labels, Millis, Sample

Families = dict[str, tuple[tuple[Labels, float], ...]]
_PROTOBUF = "application/vnd.google.protobuf"
_STEP = 1 << 20


class Refused(ValueError):
    """A body that cannot be taken for what it is (not for its size): malformed (400),
    another tenant's series (403), or a format or encoding we do not speak (415)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def unpack(body: bytes, encoding: str, limit: int) -> bytes:
    """The body with its Content-Encoding (gzip, deflate or none) undone. Raise Rejected
    (413) once the result passes limit bytes, Refused for corrupt data (400) or another
    encoding (415)."""
    coding = encoding.strip().lower()
    if coding in ("", "identity"):
        if len(body) > limit:
            raise _too_large(limit)
        return body
    if coding in ("gzip", "x-gzip"):
        wbits = 16 + zlib.MAX_WBITS
    elif coding == "deflate":
        # HTTP's deflate is the zlib format; some clients send raw deflate data
        wbits = zlib.MAX_WBITS if _zlib_header(body) else -zlib.MAX_WBITS
    else:
        raise Refused(
            415,
            f"Content-Encoding {encoding!r} is not supported; send gzip, deflate or no "
            "Content-Encoding",
        )
    inflater = zlib.decompressobj(wbits)
    parts: list[bytes] = []
    size = 0
    data = body
    try:
        while data and not inflater.eof:
            part = inflater.decompress(data, min(_STEP, limit + 1 - size))
            size += len(part)
            if size > limit:
                raise _too_large(limit)
            parts.append(part)
            data = inflater.unconsumed_tail
    except zlib.error as exc:
        raise Refused(400, f"the body is not valid {coding}: {exc}") from None
    if not inflater.eof:
        raise Refused(400, f"the body is not valid {coding}: it ends too early")
    return b"".join(parts)


def _zlib_header(body: bytes) -> bool:
    return len(body) >= 2 and body[0] & 0x0F == 8 and (body[0] << 8 | body[1]) % 31 == 0


def _too_large(limit: int) -> Rejected:
    return Rejected(
        UNPACKED_TOO_LARGE,
        f"the unpacked body is larger than {size_text(limit)}; send less at once "
        "(metrics.limits.max_unpacked_size)",
        status=413,
    )


def count_lines(body: bytes) -> int:
    return body.count(b"\n") + (1 if body and not body.endswith(b"\n") else 0)


def push_families(
    body: bytes,
    *,
    encoding: str,
    content_type: str,
    key: Labels,
    tenant: str | None,
    limits: IngestLimits,
) -> Families:
    """A Pushgateway push body as families of series (grouping key and tenant applied).

    Raise Rejected over a limit, Refused for a body that is not a valid push."""
    if content_type.split(";")[0].strip().lower() == _PROTOBUF:
        raise Refused(415, "the protobuf push format is not supported; push the text format")
    raw = unpack(body, encoding, limits.max_unpacked_bytes)
    lines = count_lines(raw)
    if lines > limits.max_lines:
        raise Rejected(
            TOO_MANY_LINES,
            f"the push has {lines} lines, over the limit of {limits.max_lines}; push less "
            "at once (metrics.limits.max_lines)",
            status=413,
        )
    try:
        text = decode_exposition(raw)
        samples = parse_text(text, openmetrics=is_openmetrics(content_type))
    except ExpositionError as exc:
        raise Refused(400, str(exc)) from None
    if len(samples) > limits.max_series_per_request:
        raise Rejected(
            TOO_MANY_SERIES,
            f"the push has {len(samples)} series, over the limit of "
            f"{limits.max_series_per_request}; push less at once "
            "(metrics.limits.max_series_per_request)",
            status=413,
            samples=len(samples),
        )
    pairs = []
    for i, sample in enumerate(samples):
        if sample.timestamp_ms is not None:
            numbers = _sample_lines(text)
            where = f"line {numbers[i]}" if len(numbers) == len(samples) else f"sample {i + 1}"
            raise Refused(
                400,
                f"{where}: pushed metrics must not carry timestamps (the push time is used, "
                "as in the Pushgateway); remove the timestamp",
            )
        try:
            pairs.append((bind_tenant(sample.labels, tenant), sample.value))
        except ForeignTenant as exc:
            raise Refused(403, str(exc)) from None
    families = build_families(key, pairs, metric_types(text))
    try:
        for family in families.values():
            for labels, _ in family:
                check_label_limits(labels, limits)
    except Rejected as exc:
        exc.samples = len(pairs)
        raise
    return families


def _sample_lines(text: str) -> list[int]:
    """The line numbers of the sample lines, in order."""
    return [
        i
        for i, line in enumerate(text.split("\n"), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]


def remote_write_rows(
    body: bytes,
    *,
    tenant: str | None,
    limits: IngestLimits,
    now_ms: Millis,
    retention_ms: Callable[[Labels], int],
    shortest_retention_ms: int = 0,
) -> list[Sample]:
    """The samples of a snappy-compressed remote-write 1.0 request, as store rows.

    As Prometheus' receiver, refuse the whole request (Rejected, 400) for a sample more
    than max_future ahead of now ("out of bounds"), one older than its series' retention
    ("too old sample"; retention_ms(labels) is asked only for samples older than
    shortest_retention_ms), or two samples of a series at one timestamp with different
    values; Rejected (413) over a size limit; Refused for a malformed request or another
    tenant's series."""
    try:
        contents = decode_write_request_contents(
            body,
            max_decoded_bytes=limits.max_unpacked_bytes,
            max_series=limits.max_series_per_request,
            max_samples=limits.max_samples_per_request,
        )
    except RemoteWriteTooLarge as exc:
        raise Rejected(exc.reason, str(exc), status=413) from None
    except RemoteWriteError as exc:
        raise Refused(400, f"malformed remote-write request: {exc}") from None
    try:
        rows = _rows(contents.series, tenant, limits)
        _check_times(rows, limits, now_ms, retention_ms, shortest_retention_ms)
    except Rejected as exc:
        exc.samples = sum(len(ts.samples) for ts in contents.series)
        raise
    return rows


def _rows(series: Sequence[TimeSeries], tenant: str | None, limits: IngestLimits) -> list[Sample]:
    rows: list[Sample] = []
    seen: set[Labels] = set()
    for ts in series:
        try:
            labels = bind_tenant(ts.labels, tenant)
        except ForeignTenant as exc:
            raise Refused(403, str(exc)) from None
        check_label_limits(labels, limits)
        seen.add(labels)
        samples = ts.samples
        if len(samples) == 1:
            t, v = samples[0]
            rows.append((labels, t, v))
            continue
        if not all(a < b for (a, _), (b, _) in pairwise(samples)):
            _check_duplicates(labels, samples)
        rows.extend([(labels, t, v) for t, v in samples])
    if len(seen) != len(series):  # a series sent twice: its samples together
        by_series: dict[Labels, list[tuple[int, float]]] = {}
        for labels, t, v in rows:
            by_series.setdefault(labels, []).append((t, v))
        for labels, pairs in by_series.items():
            _check_duplicates(labels, pairs)
    return rows


def _check_times(
    rows: Sequence[Sample],
    limits: IngestLimits,
    now_ms: Millis,
    retention_ms: Callable[[Labels], int],
    shortest_retention_ms: int,
) -> None:
    if not rows:
        return
    stamps = [t for _, t, _ in rows]
    latest = now_ms + limits.max_future_ms
    if max(stamps) > latest:
        labels, t, _ = next(row for row in rows if row[1] > latest)
        raise Rejected(
            OUT_OF_BOUNDS,
            f"out of bounds: timestamp is too far in the future for series "
            f"{show_series(labels)}: {t} is more than "
            f"{format_duration(limits.max_future_ms / 1000)} ahead of this server's clock "
            f"({now_ms}); check the sender's clock",
        )
    if min(stamps) >= now_ms - shortest_retention_ms:
        return
    for labels, t, _ in rows:
        if t < now_ms - shortest_retention_ms and t < (oldest := now_ms - retention_ms(labels)):
            raise Rejected(
                TOO_OLD,
                f"too old sample for series {show_series(labels)}: {t} is older than its "
                f"retention ({format_duration((now_ms - oldest) / 1000)} before {now_ms})",
            )


def _check_duplicates(labels: Labels, samples: Sequence[tuple[int, float]]) -> None:
    """Raise Rejected for two samples at one timestamp with different values (the same
    value twice is a harmless repeat, as Prometheus takes it)."""
    first: dict[int, float] = {}
    for t, v in samples:
        old = first.setdefault(t, v)
        if old is not v and not same_value(old, v):
            raise Rejected(DUPLICATE, duplicate_message(labels, t, old, v))
