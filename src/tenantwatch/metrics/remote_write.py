"""Prometheus remote-write 1.0: decode and encode snappy-compressed `prometheus.WriteRequest`s.

The protobuf messages are built at run time from a small descriptor (the subset of
prometheus' `prompb/remote.proto` and `types.proto` we read) and parsed by the `protobuf`
package's C (upb) decoder, which is several times faster than a varint loop in Python.
Exemplars, native histograms and metadata are declared as raw `bytes` fields: they are
counted but not decoded, so a series that carries only native histograms yields no samples.
Bodies use snappy's block format (not the framing format), as Prometheus sends them with
`Content-Encoding: snappy`, `Content-Type: application/x-protobuf` and
`X-Prometheus-Remote-Write-Version: 0.1.0`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cramjam
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from tenantwatch.metrics.limits import TOO_MANY_SAMPLES, TOO_MANY_SERIES, UNPACKED_TOO_LARGE
from tenantwatch.promql.model import METRIC_NAME
from tenantwatch.types import Labels

MAX_DECODED_BYTES = 64 * 1024 * 1024
# Snappy's densest encoding is a 3-byte copy op writing 64 bytes.
_MAX_SNAPPY_RATIO = 22
_SNAPPY_FRAMED = b"\xff\x06\x00\x00sNaPpY"


@dataclass(frozen=True, slots=True)
class TimeSeries:
    labels: Labels
    samples: tuple[tuple[int, float], ...]  # (timestamp_ms, value)


@dataclass(frozen=True, slots=True)
class WriteRequestContents:
    """A decoded request, with what was received but not decoded."""

    series: list[TimeSeries]
    histograms_ignored: int = 0
    exemplars_ignored: int = 0
    metadata_ignored: int = 0


class RemoteWriteError(ValueError):
    """A remote-write body that cannot be accepted; the message says what is wrong."""


class RemoteWriteTooLarge(RemoteWriteError):
    """A body over a size limit; `reason` names the limit (see limits.REASONS)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def decode_write_request(body: bytes) -> list[TimeSeries]:
    """The series with float samples in a snappy-compressed WriteRequest.

    Raises RemoteWriteError for bad snappy, a malformed protobuf, or invalid labels.
    """
    return decode_write_request_contents(body).series


def decode_write_request_contents(
    body: bytes,
    *,
    max_decoded_bytes: int = MAX_DECODED_BYTES,
    max_series: int | None = None,
    max_samples: int | None = None,
) -> WriteRequestContents:
    """Like decode_write_request, and counts the native histograms, exemplars and
    metadata that were skipped. Over a limit, raise RemoteWriteTooLarge before the series
    are turned into Python objects."""
    raw = _decompress(body, max_decoded_bytes)
    request = _messages()["WriteRequest"]()
    try:
        request.ParseFromString(raw)
    except Exception as exc:  # upb raises DecodeError; be sure nothing else escapes
        raise RemoteWriteError(
            f"body is not a valid protobuf prometheus.WriteRequest ({exc}): it is truncated "
            "or not remote-write 1.0"
        ) from None
    if max_series is not None and len(request.timeseries) > max_series:
        raise RemoteWriteTooLarge(
            TOO_MANY_SERIES,
            f"the request has {len(request.timeseries)} series, over the limit of "
            f"{max_series} per request: send smaller batches (max_samples_per_send)",
        )
    if max_samples is not None:
        count = sum(len(ts.samples) for ts in request.timeseries)
        if count > max_samples:
            raise RemoteWriteTooLarge(
                TOO_MANY_SAMPLES,
                f"the request has {count} samples, over the limit of {max_samples} per "
                "request: send smaller batches (max_samples_per_send)",
            )
    series: list[TimeSeries] = []
    histograms = exemplars = 0
    for index, ts in enumerate(request.timeseries):
        labels = _labels(index, [(label.name, label.value) for label in ts.labels])
        histograms += len(ts.histograms)
        exemplars += len(ts.exemplars)
        if len(ts.samples):
            samples = tuple([(s.timestamp, s.value) for s in ts.samples])
            series.append(TimeSeries(labels, samples))
    return WriteRequestContents(series, histograms, exemplars, len(request.metadata))


def encode_write_request(series: Sequence[TimeSeries]) -> bytes:
    """A snappy-compressed WriteRequest holding these series, as Prometheus sends it."""
    messages = _messages()
    request = messages["WriteRequest"]()
    for item in series:
        ts = request.timeseries.add()
        for name, label_value in item.labels:
            ts.labels.add(name=name, value=label_value)
        for timestamp, value in item.samples:
            ts.samples.add(value=value, timestamp=timestamp)
    payload: bytes = request.SerializeToString()
    return bytes(cramjam.snappy.compress_raw(payload))


def _decompress(body: bytes, limit: int) -> bytes:
    if body.startswith(_SNAPPY_FRAMED):
        raise RemoteWriteError(
            "body uses snappy's framing format; remote-write bodies use the block format"
        )
    declared = _declared_length(body)
    if declared > limit:
        raise RemoteWriteTooLarge(
            UNPACKED_TOO_LARGE,
            f"body would decompress to {declared} bytes, over the limit of {limit}: "
            "send smaller batches (max_samples_per_send)",
        )
    if declared > _MAX_SNAPPY_RATIO * len(body) + 64:
        raise RemoteWriteError(
            f"body is not valid snappy: its header claims {declared} bytes from {len(body)}"
        )
    try:
        return bytes(cramjam.snappy.decompress_raw(body))
    except Exception as exc:  # cramjam.DecompressionError, or anything else cramjam raises
        raise RemoteWriteError(
            f"body is not valid snappy (block format) data: {exc}; remote-write bodies are "
            "snappy-compressed protobuf"
        ) from None


def _declared_length(body: bytes) -> int:
    """The uncompressed length a snappy block states in its leading varint."""
    value = shift = 0
    for i, byte in enumerate(body[:10]):
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value
        shift += 7
        if i == 4:
            break
    raise RemoteWriteError(
        "body is not valid snappy: it does not start with a length"
        if body
        else "body is empty: expected a snappy-compressed WriteRequest"
    )


def _labels(index: int, pairs: list[tuple[str, str]]) -> Labels:
    found = dict(pairs)
    names = list(found)
    if len(names) == len(pairs) and names == sorted(names) and "" not in found:
        if found.get(METRIC_NAME):
            if "" in found.values():
                return tuple((name, value) for name, value in pairs if value)
            return tuple(pairs)
        raise RemoteWriteError(
            f"timeseries[{index}] {_show(pairs)}: no {METRIC_NAME} label; every series needs a "
            "metric name"
        )
    previous = ""
    for position, (name, _) in enumerate(pairs):
        if not name:
            raise RemoteWriteError(f"timeseries[{index}]: label {position} has an empty name")
        if position and name <= previous:
            what = "repeats" if name == previous else f"comes after {previous!r}: it sorts before"
            raise RemoteWriteError(
                f"timeseries[{index}] {_show(pairs)}: label {name!r} {what}; label names must be "
                "unique and sorted (remote-write 1.0)"
            )
        previous = name
    raise AssertionError("unreachable: a sorted, unique, non-empty label list passed above")


def _show(pairs: list[tuple[str, str]]) -> str:
    inner = ", ".join(f"{name}={value!r}" for name, value in pairs[:12])
    return "{" + inner + (", ..." if len(pairs) > 12 else "") + "}"


@functools.cache
def _messages() -> dict[str, Any]:
    """Message classes for the part of prompb we read, in a private descriptor pool."""
    file = descriptor_pb2.FileDescriptorProto(
        name="tenantwatch/remote_write.proto", package="prometheus", syntax="proto3"
    )
    f = descriptor_pb2.FieldDescriptorProto
    repeated, optional = f.LABEL_REPEATED, f.LABEL_OPTIONAL

    def message(name: str, *fields: tuple[str, int, int, int, str]) -> None:
        msg = file.message_type.add(name=name)
        for field_name, number, label, kind, type_name in fields:
            field = msg.field.add(name=field_name, number=number, label=label, type=kind)
            if type_name:
                field.type_name = type_name

    message(
        "Label", ("name", 1, optional, f.TYPE_STRING, ""), ("value", 2, optional, f.TYPE_STRING, "")
    )
    message(
        "Sample",
        ("value", 1, optional, f.TYPE_DOUBLE, ""),
        ("timestamp", 2, optional, f.TYPE_INT64, ""),
    )
    message(
        "TimeSeries",
        ("labels", 1, repeated, f.TYPE_MESSAGE, ".prometheus.Label"),
        ("samples", 2, repeated, f.TYPE_MESSAGE, ".prometheus.Sample"),
        ("exemplars", 3, repeated, f.TYPE_BYTES, ""),
        ("histograms", 4, repeated, f.TYPE_BYTES, ""),
    )
    message(
        "WriteRequest",
        ("timeseries", 1, repeated, f.TYPE_MESSAGE, ".prometheus.TimeSeries"),
        ("metadata", 3, repeated, f.TYPE_BYTES, ""),
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"prometheus.{name}"))
        for name in ("Label", "Sample", "TimeSeries", "WriteRequest")
    }
