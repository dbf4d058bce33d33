"""Prometheus remote-write 1.0 bodies: golden bytes, a real Prometheus, round trips, fuzzing."""

from __future__ import annotations

import base64
import math
import random
import shutil
import struct
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import cramjam
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tenantwatch.metrics.remote_write import (
    RemoteWriteError,
    TimeSeries,
    decode_write_request,
    decode_write_request_contents,
    encode_write_request,
)
from tenantwatch.promql.model import STALE_NAN, is_stale
from tests.support import free_port


def snappy(raw: bytes) -> bytes:
    return bytes(cramjam.snappy.compress_raw(raw))


def unsnappy(body: bytes) -> bytes:
    return bytes(cramjam.snappy.decompress_raw(body))


def field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field (payloads here stay under 128 bytes)."""
    assert len(payload) < 128
    return bytes([number << 3 | 2, len(payload)]) + payload


def label(name: str, value: str) -> bytes:
    return field(1, field(1, name.encode()) + field(2, value.encode()))


def sample(value: float, timestamp: int) -> bytes:
    varint = bytearray()
    ts = timestamp & (2**64 - 1)
    while True:
        byte = ts & 0x7F
        ts >>= 7
        varint.append(byte | (0x80 if ts else 0))
        if not ts:
            break
    return field(2, b"\x09" + struct.pack("<d", value) + b"\x10" + bytes(varint))


# WriteRequest{timeseries: [{labels: [__name__="up", job="x"], samples: [{1.0, 1000}]}]},
# written out byte by byte from prompb/types.proto and remote.proto.
SPEC_BYTES = bytes.fromhex(
    "0a28"  # WriteRequest.timeseries (field 1), 40 bytes
    "0a0e"
    "0a085f5f6e616d655f5f"
    "12027570"  # labels: name "__name__", value "up"
    "0a08"
    "0a036a6f62"
    "120178"  # labels: name "job", value "x"
    "120c"
    "09000000000000f03f"
    "10e807"  # samples: value 1.0 (fixed64), timestamp 1000
)

# A body Debian's Prometheus 2.42 sent (scraping one target, relabelled to `golden_.*`).
PROMETHEUS_2_42_BODY = base64.b64decode(
    "mQXwTAp+CiEKCF9fbmFtZV9fEhVnb2xkZW5fcmVxdWVzdHNfdG90YWwKGwoIaW5zdGFuY2USDzEyNy4wLjAuMToxOTEy"
    "MwoNCgNqb2ISBmdvATuACgwKBHBhdGgSBC9hImIKDQoGdGVuYW50EgN0w6kSEAkABQEwRUAQ9M3ukqA0CnQKKR2AAB0N"
    "gFRsYXRlbmN5X3NlY29uZHNfYnVja2V0sogAJAkKAmxlEgMwLjUVdgTwPxF2BHUK/nYAWnYAAAoFdhAEK0luZhV3AAgV"
    "7QhmCiYd7QAaWu0ACHN1ba7qABVoAAQVaAhoCigdaAAcWmgADGNvdW6yVAEVahnSCFgKGB1qAAwNahBnYXVnZbrEADgB"
    "AAAAAAD4fxD0ze6SoDQ="
)


def test_it_decodes_bytes_written_from_the_spec() -> None:
    assert decode_write_request(snappy(SPEC_BYTES)) == [
        TimeSeries((("__name__", "up"), ("job", "x")), ((1000, 1.0),)),
    ]


def test_it_encodes_exactly_the_spec_bytes() -> None:
    body = encode_write_request([TimeSeries((("__name__", "up"), ("job", "x")), ((1000, 1.0),))])
    assert unsnappy(body) == SPEC_BYTES


def test_it_decodes_a_body_sent_by_a_real_prometheus() -> None:
    got = decode_write_request(PROMETHEUS_2_42_BODY)
    target = (("instance", "127.0.0.1:19123"), ("job", "golden"))
    ts = 1795335890676
    assert [(s.labels, s.samples[0][1]) for s in got[:5]] == [
        (
            (("__name__", "golden_requests_total"), *target, ("path", '/a"b'), ("tenant", "té")),
            42.0,
        ),
        ((("__name__", "golden_latency_seconds_bucket"), *target, ("le", "0.5")), 1.0),
        ((("__name__", "golden_latency_seconds_bucket"), *target, ("le", "+Inf")), 3.0),
        ((("__name__", "golden_latency_seconds_sum"), *target), 2.5),
        ((("__name__", "golden_latency_seconds_count"), *target), 3.0),
    ]
    assert got[5].labels == (("__name__", "golden_gauge"), *target)
    assert math.isnan(got[5].samples[0][1])
    assert all(s.samples[0][0] == ts for s in got)


def test_round_trip_keeps_labels_values_timestamps_and_stale_markers() -> None:
    series = [
        TimeSeries(
            (("__name__", "req_total"), ("path", '/a"b\\c\n'), ("tenant", "té 🚀")),
            ((-5, 1.5), (0, -0.0), (1_700_000_000_000, math.inf), (2**62, -math.inf)),
        ),
        TimeSeries((("__name__", "gone"),), ((1000, STALE_NAN), (2000, math.nan))),
        TimeSeries((("__name__", "big"), ("job", "j")), tuple((t, float(t)) for t in range(500))),
    ]
    got = decode_write_request(encode_write_request(series))
    assert [s.labels for s in got] == [s.labels for s in series]
    assert [[t for t, _ in s.samples] for s in got] == [[t for t, _ in s.samples] for s in series]
    for mine, theirs in zip(got, series, strict=True):
        for (_, a), (_, b) in zip(mine.samples, theirs.samples, strict=True):
            assert struct.pack("<d", a) == struct.pack("<d", b)
    assert is_stale(got[1].samples[0][1])
    assert not is_stale(got[1].samples[1][1])


def test_an_empty_request_round_trips() -> None:
    assert decode_write_request(encode_write_request([])) == []


def test_native_histograms_exemplars_and_metadata_are_counted_and_ignored() -> None:
    with_extras = field(
        1,
        label("__name__", "h") + sample(2.0, 5) + field(3, b"") + field(4, b"\x08\x01"),
    )
    histogram_only = field(1, label("__name__", "native") + field(4, b""))
    metadata = field(3, b"\x08\x01")
    contents = decode_write_request_contents(snappy(with_extras + histogram_only + metadata))
    assert contents.series == [TimeSeries((("__name__", "h"),), ((5, 2.0),))]
    assert (contents.histograms_ignored, contents.exemplars_ignored) == (2, 1)
    assert contents.metadata_ignored == 1


def test_empty_label_values_are_dropped() -> None:
    raw = field(1, label("__name__", "m") + label("a", "") + label("b", "x") + sample(1.0, 1))
    (got,) = decode_write_request(snappy(raw))
    assert got.labels == (("__name__", "m"), ("b", "x"))


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (field(1, label("job", "x") + sample(1, 1)), "no __name__ label"),
        (field(1, label("__name__", "") + sample(1, 1)), "no __name__ label"),
        (field(1, label("__name__", "m") + label("b", "1") + label("a", "2")), "sorts before"),
        (field(1, label("__name__", "m") + label("a", "1") + label("a", "2")), "'a' repeats"),
        (field(1, label("", "v") + label("__name__", "m")), "empty name"),
        (SPEC_BYTES[:-3], "truncated"),
        (b"\x0a\x05\x0a", "truncated"),
        (b"\x0a\x02\x0a\x80", "truncated"),
        (field(1, field(1, b"\x0a\x02\xff\xfe")), "not a valid protobuf"),  # invalid UTF-8
        (b"\x0b", "not a valid protobuf"),  # a field with wire type 3 (group start)
    ],
)
def test_malformed_requests_say_what_is_wrong(raw: bytes, fragment: str) -> None:
    with pytest.raises(RemoteWriteError) as caught:
        decode_write_request(snappy(raw))
    assert fragment in str(caught.value)


def test_the_failing_series_is_named_by_index() -> None:
    good = field(1, label("__name__", "ok") + sample(1, 1))
    bad = field(1, label("job", "x") + sample(1, 1))
    with pytest.raises(RemoteWriteError, match=r"timeseries\[1\] \{job='x'\}"):
        decode_write_request(snappy(good + bad))


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"", "body is empty"),
        (b"\x80\x80\x80\x80\x80\x80", "does not start with a length"),
        (b"\xff\xff\xff\xff\x0f", "over the limit"),
        (b"\x80\x80\x80\x10abc", "header claims"),
        (b"\xff\x06\x00\x00sNaPpY\x00\x00", "framing format"),
        (b"\x10garbage", "not valid snappy"),
        (SPEC_BYTES, "not valid snappy"),  # forgot to compress
    ],
)
def test_bad_snappy_says_so(body: bytes, fragment: str) -> None:
    with pytest.raises(RemoteWriteError) as caught:
        decode_write_request(body)
    assert fragment in str(caught.value)


def test_the_decoded_size_limit_is_enforced() -> None:
    body = encode_write_request([TimeSeries((("__name__", "m"),), ((1, 1.0),))] * 100)
    with pytest.raises(RemoteWriteError, match="over the limit of 100"):
        decode_write_request_contents(body, max_decoded_bytes=100)


# --- fuzzing: only RemoteWriteError may come out -----------------------------------------------


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300))
def test_random_bodies_only_raise_remote_write_errors(body: bytes) -> None:
    for candidate in (body, snappy(body)):
        try:
            decode_write_request(candidate)
        except RemoteWriteError as exc:
            assert str(exc)


def test_truncated_and_bit_flipped_bodies_only_raise_remote_write_errors() -> None:
    rnd = random.Random(3)
    raw = unsnappy(PROMETHEUS_2_42_BODY)
    candidates = [PROMETHEUS_2_42_BODY[:n] for n in range(len(PROMETHEUS_2_42_BODY))]
    candidates += [snappy(raw[:n]) for n in range(len(raw))]
    for _ in range(600):
        flipped = bytearray(rnd.choice([raw, PROMETHEUS_2_42_BODY]))
        for _ in range(rnd.randint(1, 3)):
            flipped[rnd.randrange(len(flipped))] ^= 1 << rnd.randrange(8)
        candidates += [bytes(flipped), snappy(bytes(flipped))]
    decoded = 0
    for body in candidates:
        try:
            decode_write_request(body)
            decoded += 1
        except RemoteWriteError:
            pass
    assert decoded < len(candidates)


# --- a real consumer: Prometheus' own remote-write receiver ------------------------------------


@pytest.fixture
def prometheus_receiver(tmp_path: Path) -> Iterator[str]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("needs Debian's prometheus package (apt-get install prometheus)")
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1m\n")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--web.enable-remote-write-receiver",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            pytest.fail("prometheus did not become ready in 30 s")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_prometheus_accepts_what_we_encode(prometheus_receiver: str) -> None:
    now = int(time.time() * 1000)
    labels = (("__name__", "tw_forwarded"), ("path", '/a"b'), ("tenant", "té"))
    body = encode_write_request(
        [
            TimeSeries(labels, ((now - 2000, 1.5), (now - 1000, 2.5))),
            TimeSeries((("__name__", "tw_other"), ("job", "j")), ((now - 1000, -7.0),)),
        ]
    )
    response = httpx.post(
        f"{prometheus_receiver}/api/v1/write",
        content=body,
        headers={
            "Content-Encoding": "snappy",
            "Content-Type": "application/x-protobuf",
            "X-Prometheus-Remote-Write-Version": "0.1.0",
        },
        timeout=10,
    )
    assert response.status_code == 204, response.text
    query = httpx.get(
        f"{prometheus_receiver}/api/v1/query",
        params={"query": "{__name__=~'tw_.*'}[1m]", "time": str(now / 1000)},
        timeout=10,
    ).json()
    got = {
        tuple(sorted(r["metric"].items())): [
            (int(float(t) * 1000), float(v)) for t, v in r["values"]
        ]
        for r in query["data"]["result"]
    }
    assert got == {
        labels: [(now - 2000, 1.5), (now - 1000, 2.5)],
        (("__name__", "tw_other"), ("job", "j")): [(now - 1000, -7.0)],
    }
