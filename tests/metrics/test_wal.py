"""WAL records and segments, checkpoint files: round trips and damage detection."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tenantwatch.metrics import wal
from tenantwatch.promql.model import STALE_NAN, is_stale


def _samples_record(n: int = 5, first_ref: int = 0) -> bytes:
    refs = np.arange(first_ref, first_ref + n, dtype=np.int64)
    ts = np.full(n, 1_700_000_000_000, dtype=np.int64) + refs
    vals = refs * 1.5
    return wal.encode_samples(refs.tobytes(), ts.tobytes(), vals.tobytes())


def _segment(tmp_path: Path, *records: bytes) -> Path:
    w = wal.Wal(tmp_path / "wal")
    w.start(1)
    w.log(list(records))
    w.close()
    return wal.segment_path(tmp_path / "wal", 1)


def test_series_and_samples_records_round_trip(tmp_path: Path) -> None:
    series = [(0, (("__name__", "up"), ("job", "api"))), (7, (("a", 'é\n"x'),))]
    vals = np.array([1.0, -2.5, np.inf, STALE_NAN])
    refs = np.array([7, 0, 7, 3], dtype=np.int64)
    ts = np.array([5, 3, 2, 10**13], dtype=np.int64)
    path = _segment(
        tmp_path,
        wal.encode_series(series),
        wal.encode_samples(refs.tobytes(), ts.tobytes(), vals.tobytes()),
    )
    read = wal.read_segment(path)
    assert read.problem is None
    assert [kind for kind, _ in read.records] == [wal.SERIES, wal.SAMPLES]
    assert wal.decode_series(read.records[0][1]) == series
    got_refs, got_ts, got_vals = wal.decode_samples(read.records[1][1])
    assert got_refs.tolist() == refs.tolist()
    assert got_ts.tolist() == ts.tolist()
    assert got_vals[:3].tolist() == [1.0, -2.5, np.inf]
    assert is_stale(float(got_vals[3]))  # the stale marker's bits survive


def test_a_tail_torn_at_any_byte_keeps_every_whole_record_before_it(tmp_path: Path) -> None:
    path = _segment(tmp_path, _samples_record(3), _samples_record(4, 10))
    whole = path.read_bytes()
    first_end = len(wal.SEGMENT_MAGIC) + len(_samples_record(3))
    for cut in range(first_end, len(whole)):
        path.write_bytes(whole[:cut])
        read = wal.read_segment(path)
        assert len(read.records) == 1, cut
        assert read.valid_bytes == first_end
        assert read.problem is not None if cut > first_end else read.problem is None


def test_a_zero_filled_or_flipped_tail_is_detected(tmp_path: Path) -> None:
    path = _segment(tmp_path, _samples_record(3), _samples_record(4, 10))
    whole = bytearray(path.read_bytes())
    path.write_bytes(bytes(whole) + b"\0" * 4096)  # a file system's preallocated tail
    assert len(wal.read_segment(path).records) == 2
    whole[-3] ^= 0x40
    path.write_bytes(bytes(whole))
    read = wal.read_segment(path)
    assert len(read.records) == 1
    assert "torn or corrupt" in (read.problem or "")


def test_a_file_that_is_not_a_segment_yields_nothing(tmp_path: Path) -> None:
    path = tmp_path / "00000001"
    path.write_bytes(b"hello world, not a wal")
    read = wal.read_segment(path)
    assert read.records == []
    assert "bad magic" in (read.problem or "")


def test_segments_rotate_when_full_and_are_listed_in_order(tmp_path: Path) -> None:
    w = wal.Wal(tmp_path / "wal", segment_bytes=50)
    w.start(1)
    for i in range(6):
        w.log([_samples_record(20, i * 20)])
    assert [n for n, _ in wal.list_segments(tmp_path / "wal")] == [1, 2, 3, 4, 5, 6]
    assert w.cut() == 6
    w.remove_upto(4)
    assert [n for n, _ in wal.list_segments(tmp_path / "wal")] == [5, 6, 7]
    sizes = sum(p.stat().st_size for _, p in wal.list_segments(tmp_path / "wal"))
    assert w.total_bytes() == sizes
    w.close()


def _snapshots(n: int) -> list[wal.SeriesSnapshot]:
    out = []
    for i in range(n):
        ts = np.arange(i, dtype=np.int64) * 15_000 + 1_700_000_000_000
        out.append(
            wal.SeriesSnapshot(i * 3, (("__name__", f"m{i % 4}"), ("i", str(i))), ts, ts / 7.0)
        )
    return out


def test_checkpoints_round_trip_and_leave_no_temp_file(tmp_path: Path) -> None:
    snaps = _snapshots(50)
    blocks = iter([wal.encode_block(snaps[:20]), wal.encode_block(snaps[20:])])
    path = wal.write_checkpoint(tmp_path, 9, {"next_ref": 151}, blocks)
    assert path.name == "checkpoint.00000009"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    meta, got = wal.read_checkpoint(path)
    assert meta == {"next_ref": 151, "segment": 9}
    loaded = [s for block in got for s in block]
    assert [(s.ref, s.labels) for s in loaded] == [(s.ref, s.labels) for s in snaps]
    for a, b in zip(loaded, snaps, strict=True):
        assert a.ts.tolist() == b.ts.tolist()
        assert a.vals.tolist() == b.vals.tolist()


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_a_damaged_checkpoint_raises_a_clear_error(tmp_path: Path, damage: str) -> None:
    path = wal.write_checkpoint(tmp_path, 1, {}, iter([wal.encode_block(_snapshots(30))]))
    data = bytearray(path.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0x01
    else:
        data = data[: len(data) - 10]
    path.write_bytes(bytes(data))
    with pytest.raises(wal.StoreFileError, match=str(path)):
        _, blocks = wal.read_checkpoint(path)
        for _ in blocks:
            pass
