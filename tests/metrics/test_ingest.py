"""Pushed and remote-written bodies within the ingest limits (pure; no server)."""

from __future__ import annotations

import gzip
import math
import zlib

import pytest

from tenantwatch.metrics.ingest import Refused, push_families, remote_write_rows, unpack
from tenantwatch.metrics.limits import IngestLimits, Rejected
from tenantwatch.metrics.remote_write import TimeSeries, encode_write_request
from tenantwatch.promql.model import labels_of
from tenantwatch.types import Labels

MiB = 1 << 20
NOW = 1_700_000_000_000
DAY = 86_400_000
TEXT = b"# TYPE jobs gauge\njobs 3\n"


def L(**labels: str) -> Labels:
    return labels_of(labels)


def raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize(
    ("encoding", "pack"),
    [
        ("", lambda b: b),
        ("identity", lambda b: b),
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),  # HTTP's deflate: the zlib format
        ("Deflate", raw_deflate),  # what some clients send instead
    ],
)
def test_bodies_are_unpacked_by_their_content_encoding(encoding: str, pack: object) -> None:
    assert callable(pack)
    assert unpack(pack(TEXT), encoding, MiB) == TEXT


@pytest.mark.parametrize("encoding", ["br", "zstd", "compress", "gzip, gzip", "snappy"])
def test_other_content_encodings_are_refused_with_415(encoding: str) -> None:
    with pytest.raises(Refused) as caught:
        unpack(TEXT, encoding, MiB)
    assert caught.value.status == 415
    assert "send gzip, deflate or no Content-Encoding" in str(caught.value)


def test_a_gzip_bomb_is_given_up_on_past_the_limit() -> None:
    bomb = gzip.compress(b"a" * (64 * MiB), compresslevel=9)
    assert len(bomb) < 100 * 1024
    with pytest.raises(Rejected) as caught:
        unpack(bomb, "gzip", 4 * MiB)
    assert (caught.value.status, caught.value.reason) == (413, "unpacked_too_large")
    assert "larger than 4 MiB" in str(caught.value)


def test_a_body_exactly_at_the_limit_is_taken() -> None:
    assert len(unpack(gzip.compress(b"a" * MiB), "gzip", MiB)) == MiB


@pytest.mark.parametrize(
    ("body", "encoding", "fragment"),
    [
        (gzip.compress(TEXT)[:-9], "gzip", "ends too early"),
        (b"not gzip at all", "gzip", "not valid gzip"),
        (b"\x78\x9c garbage", "deflate", "not valid deflate"),
    ],
)
def test_corrupt_packed_bodies_are_a_400(body: bytes, encoding: str, fragment: str) -> None:
    with pytest.raises(Refused) as caught:
        unpack(body, encoding, MiB)
    assert caught.value.status == 400
    assert fragment in str(caught.value)


def push(body: bytes, limits: IngestLimits = IngestLimits(), **kw: object) -> object:
    args: dict[str, object] = {
        "encoding": "",
        "content_type": "text/plain",
        "key": L(job="j"),
        "tenant": None,
        "limits": limits,
    }
    args.update(kw)
    return push_families(body, **args)  # type: ignore[arg-type]


def test_a_push_becomes_families_with_the_grouping_key() -> None:
    assert push(TEXT) == {"jobs": ((L(__name__="jobs", job="j"), 3.0),)}


def test_a_push_with_more_lines_than_the_limit_is_a_413() -> None:
    body = b"".join(b'm{i="%d"} 1\n' % i for i in range(11))
    with pytest.raises(Rejected) as caught:
        push(body, IngestLimits(max_lines=10))
    assert (caught.value.status, caught.value.reason) == (413, "too_many_lines")
    assert str(caught.value).startswith("the push has 11 lines, over the limit of 10")


def test_a_push_with_more_series_than_the_limit_is_a_413_counting_its_samples() -> None:
    body = b"".join(b'm{i="%d"} 1\n' % i for i in range(11))
    with pytest.raises(Rejected) as caught:
        push(body, IngestLimits(max_series_per_request=10))
    assert (caught.value.reason, caught.value.samples) == ("too_many_series_in_request", 11)


def test_label_limits_apply_to_pushed_series_with_the_grouping_labels() -> None:
    with pytest.raises(Rejected, match=r"label_limit exceeded \(metric: m, number of labels: 4"):
        push(b'm{a="1",b="2"} 1\n', IngestLimits(label_limit=3))


def test_a_push_for_another_tenant_is_a_403() -> None:
    with pytest.raises(Refused) as caught:
        push(b'm{tenant="other"} 1\n', tenant="mine", key=L(job="j", tenant="mine"))
    assert caught.value.status == 403


def rows(series: list[TimeSeries], **kw: object) -> object:
    args: dict[str, object] = {
        "tenant": None,
        "limits": IngestLimits(),
        "now_ms": NOW,
        "retention_ms": lambda labels: 15 * DAY,
    }
    args.update(kw)
    return remote_write_rows(encode_write_request(series), **args)  # type: ignore[arg-type]


UP = L(__name__="up", job="a")


def test_remote_written_samples_become_rows() -> None:
    got = rows([TimeSeries(UP, ((NOW - 1000, 1.0), (NOW, 2.0)))])
    assert got == [(UP, NOW - 1000, 1.0), (UP, NOW, 2.0)]


def test_a_sample_more_than_10_minutes_ahead_refuses_the_request_as_out_of_bounds() -> None:
    ahead = NOW + 10 * 60_000 + 1
    series = [TimeSeries(L(__name__="ok"), ((NOW, 1.0),)), TimeSeries(UP, ((ahead, 1.0),))]
    with pytest.raises(Rejected) as caught:
        rows(series)
    message = str(caught.value)
    assert message.startswith(
        'out of bounds: timestamp is too far in the future for series up{job="a"}'
    )
    assert (caught.value.reason, caught.value.status, caught.value.samples) == (
        "out_of_bounds",
        400,
        2,
    )
    assert rows([TimeSeries(UP, ((NOW + 10 * 60_000, 1.0),))])  # at the bound: taken


def test_a_sample_older_than_its_series_retention_is_a_too_old_sample() -> None:
    old = NOW - 15 * DAY - 1
    with pytest.raises(Rejected, match=r'^too old sample for series up\{job="a"\}') as caught:
        rows([TimeSeries(UP, ((old, 1.0), (NOW, 1.0)))])
    assert caught.value.reason == "too_old_sample"
    # the retention is the series' own (its tenant's tier)
    assert rows([TimeSeries(UP, ((old, 1.0),))], retention_ms=lambda labels: 90 * DAY)


def test_two_values_at_one_timestamp_in_a_request_are_a_duplicate_sample() -> None:
    with pytest.raises(Rejected) as caught:
        rows([TimeSeries(UP, ((NOW, 1.0), (NOW, 2.0)))])
    assert str(caught.value) == (
        f"duplicate sample for timestamp {NOW}; overrides not allowed: existing 1, "
        'new value 2 for series up{job="a"}'
    )
    assert caught.value.reason == "duplicate_sample_for_timestamp"


def test_a_series_repeated_in_a_request_is_checked_across_its_entries() -> None:
    series = [TimeSeries(UP, ((NOW, 1.0),)), TimeSeries(UP, ((NOW, 1.5),))]
    with pytest.raises(Rejected, match=r"existing 1, new value 1\.5"):
        rows(series)


def test_the_same_value_twice_is_a_harmless_repeat() -> None:
    got = rows([TimeSeries(UP, ((NOW, math.nan), (NOW, math.nan)))])
    assert isinstance(got, list) and len(got) == 2


@pytest.mark.parametrize(
    ("limits", "reason"),
    [
        (IngestLimits(max_series_per_request=1), "too_many_series_in_request"),
        (IngestLimits(max_samples_per_request=2), "too_many_samples_in_request"),
        (IngestLimits(max_unpacked_bytes=16), "unpacked_too_large"),
    ],
)
def test_remote_writes_over_a_size_limit_are_a_413(limits: IngestLimits, reason: str) -> None:
    series = [
        TimeSeries(UP, ((NOW, 1.0), (NOW + 1, 1.0))),
        TimeSeries(L(__name__="b"), ((NOW, 1.0),)),
    ]
    with pytest.raises(Rejected) as caught:
        rows(series, limits=limits)
    assert (caught.value.status, caught.value.reason) == (413, reason)


def test_label_limits_apply_to_remote_written_series() -> None:
    long = TimeSeries(L(__name__="up", path="p" * 3000), ((NOW, 1.0),))
    with pytest.raises(Rejected, match=r"label_value_length_limit exceeded \(metric: up, label"):
        rows([long])


def test_a_malformed_remote_write_is_refused_with_400() -> None:
    with pytest.raises(Refused) as caught:
        remote_write_rows(
            b"\x10garbage", tenant=None, limits=IngestLimits(), now_ms=NOW, retention_ms=len
        )
    assert caught.value.status == 400


def test_only_samples_older_than_the_shortest_retention_ask_for_their_own() -> None:
    asked: list[Labels] = []

    def retention(labels: Labels) -> int:
        asked.append(labels)
        return 30 * DAY

    recent = TimeSeries(L(__name__="recent"), ((NOW - DAY, 1.0),))
    older = TimeSeries(UP, ((NOW - 20 * DAY, 1.0),))
    got = rows([recent, older], retention_ms=retention, shortest_retention_ms=15 * DAY)
    assert isinstance(got, list) and len(got) == 2
    assert asked == [UP]
