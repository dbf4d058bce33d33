"""The in-memory head: sample order, label index, validation, concurrent readers, memory."""

from __future__ import annotations

import gc
import sys
import threading
import time
import tracemalloc

import numpy as np
import pytest

from tenantwatch.metrics.head import Head, MemSeries
from tenantwatch.promql.model import Matcher, labels_of
from tenantwatch.types import Labels


def lbl(**kv: str) -> Labels:
    return labels_of(kv)


def samples(series: MemSeries) -> list[tuple[int, float]]:
    return list(zip(series.ts.tolist(), series.vals.tolist(), strict=True))


def test_it_keeps_samples_in_time_order_whatever_the_arrival_order() -> None:
    s = MemSeries(0, lbl(__name__="up"))
    assert s.append(10, 1.0)
    assert s.append(30, 3.0)
    assert s.append(20, 2.0)  # out of order: inserted
    assert not s.append(30, 3.5)  # same timestamp: value replaced
    assert samples(s) == [(10, 1.0), (20, 2.0), (30, 3.5)]
    assert s.n == 3
    assert s.last_t == 30
    assert s.first_t == 10


def test_window_is_inclusive_on_both_ends() -> None:
    s = MemSeries(0, lbl(__name__="up"))
    for t in range(0, 100, 10):
        s.append(t, float(t))
    ts, vals = s.window(20, 50)
    assert ts.tolist() == [20, 30, 40, 50]
    assert vals.tolist() == [20.0, 30.0, 40.0, 50.0]
    assert len(s.window(101, 200)[0]) == 0
    assert s.has_samples(95, 200) is False
    assert s.has_samples(90, 90) is True


def test_merge_appends_fast_and_sorts_overlaps_with_the_later_value_winning() -> None:
    s = MemSeries(0, lbl(__name__="up"))
    assert s.merge(np.array([1, 2, 3]), np.array([1.0, 2.0, 3.0])) == 3
    assert s.merge(np.array([5, 6]), np.array([5.0, 6.0])) == 2
    added = s.merge(np.array([4, 2, 7, 7]), np.array([4.0, 20.0, 7.0, 70.0]))
    assert added == 2
    assert samples(s) == [(1, 1.0), (2, 20.0), (3, 3.0), (4, 4.0), (5, 5.0), (6, 6.0), (7, 70.0)]


def test_trim_drops_only_older_samples() -> None:
    s = MemSeries(0, lbl(__name__="up"))
    for t in range(10):
        s.append(t, float(t))
    assert s.trim_before(4) == 4
    assert s.ts.tolist() == [4, 5, 6, 7, 8, 9]
    assert s.trim_before(4) == 0


def test_a_non_integer_timestamp_is_refused_without_tearing_the_series() -> None:
    s = MemSeries(0, lbl(__name__="up"))
    s.append(10, 1.0)
    with pytest.raises(TypeError):
        s.append(20.5, 2.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        s.append(5.5, 2.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        s.append(30, "x")  # type: ignore[arg-type]
    s.append(40, 4.0)
    assert samples(s) == [(10, 1.0), (40, 4.0)]


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ((("b", "1"), ("a", "2")), "sorted by name"),
        ((("a", "1"), ("a", "2")), "sorted by name"),
        ((("a", ""),), "empty value"),
        ((("", "x"),), "empty name"),
        ((("a", 1),), "pair of strings"),
        ([("a", "1")], "tuple"),
    ],
)
def test_it_refuses_labels_that_are_not_canonical(labels: Labels, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Head().get_or_create(labels)


def _head() -> Head:
    head = Head()
    for tenant in ("a", "b"):
        for job in ("api", "db"):
            for code in ("200", "500"):
                head.append(lbl(__name__="req_total", tenant=tenant, job=job, code=code), 1, 1.0)
    head.append(lbl(__name__="up", tenant="a", job="api"), 1, 1.0)
    return head


def _names(head: Head, *matchers: Matcher) -> set[str]:
    return {
        f"{dict(s.labels).get('tenant')}/{dict(s.labels).get('job')}/{dict(s.labels).get('code')}"
        for s in head.select(list(matchers), 0, 10)
    }


def test_matchers_of_every_kind_select_through_the_index() -> None:
    head = _head()
    name = Matcher.of("__name__", "=", "req_total")
    assert len(head.select([name], 0, 10)) == 8
    assert _names(head, name, Matcher.of("tenant", "=", "a"), Matcher.of("code", "=", "500")) == {
        "a/api/500",
        "a/db/500",
    }
    assert _names(head, name, Matcher.of("job", "!=", "api"), Matcher.of("tenant", "=", "b")) == {
        "b/db/200",
        "b/db/500",
    }
    assert _names(head, name, Matcher.of("code", "=~", "5.."), Matcher.of("job", "!~", "d.*")) == {
        "a/api/500",
        "b/api/500",
    }
    # a matcher that matches the empty string also selects series without the label
    assert _names(head, Matcher.of("code", "=~", "|200"), Matcher.of("tenant", "=", "a")) == {
        "a/api/200",
        "a/db/200",
        "a/api/None",
    }
    assert head.select([Matcher.of("tenant", "=", "zzz")], 0, 10) == []
    assert head.select([name], 2, 10) == []  # no samples in range


def test_series_label_names_and_values_honour_matchers_and_time() -> None:
    head = _head()
    up = [Matcher.of("__name__", "=", "up")]
    assert head.series(up, 0, 10) == [lbl(__name__="up", tenant="a", job="api")]
    assert head.series(up, 5, 10) == []
    assert head.label_names(up, 0, 10) == ["__name__", "job", "tenant"]
    assert head.label_values("code", [Matcher.of("tenant", "=", "a")], 0, 10) == ["200", "500"]


def test_dropped_series_leave_the_index_and_keep_their_id_retired() -> None:
    head = _head()
    gone = head.drop_series(lambda s: dict(s.labels).get("tenant") != "b")
    assert gone == 4
    assert head.active == 5
    assert _names(head, Matcher.of("tenant", "=", "b")) == set()
    assert head.label_values("tenant", [Matcher.of("__name__", "=~", ".+")], 0, 10) == ["a"]
    again = head.get_or_create(lbl(__name__="req_total", tenant="b", job="api", code="200"))
    assert again.id == 9  # a new id, never one of a dropped series


def test_labels_are_interned_across_series() -> None:
    head = Head()
    a = head.get_or_create(lbl(__name__="x", tenant="t1", pod="p1"))
    b = head.get_or_create(lbl(__name__="x", tenant="t1", pod="p2"))
    assert a.labels[0] is b.labels[0]
    assert a.labels[2] is b.labels[2]
    fresh = (("__name__", "y"), ("zone", "eu"))
    assert head.get_or_create(fresh).labels is fresh  # nothing to share: the caller's tuple


def test_readers_in_other_threads_never_see_torn_or_failing_reads() -> None:
    """One writer appends, inserts out of order, trims and creates series while readers
    select; every value must equal its timestamp / 1000 and arrays must stay sorted."""
    head = Head()
    stop = threading.Event()
    errors: list[BaseException] = []
    reads = [0]

    def reader() -> None:
        matcher = [Matcher.of("__name__", "=~", "m.*")]
        while not stop.is_set():
            try:
                for data in head.select(matcher, 0, 10**9):
                    assert len(data.ts) == len(data.vals)
                    assert np.all(np.diff(data.ts) > 0)
                    assert np.array_equal(data.vals, data.ts / 1000.0)
                head.label_values("i", matcher, 0, 10**9)
                reads[0] += 1
            except BaseException as exc:
                errors.append(exc)
                return

    threads = [threading.Thread(target=reader) for _ in range(2)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, so a race window gets hit
    for t in threads:
        t.start()
    try:
        deadline = time.monotonic() + 1.5
        step = 0
        while not errors and (time.monotonic() < deadline or reads[0] < 100):
            step += 1
            for i in range(20):
                s = head.get_or_create(lbl(__name__=f"m{i % 3}", i=str(i)))
                t = step * 1000
                s.append(t, t / 1000.0)
                s.append(t - 500, (t - 500) / 1000.0)  # out of order
                if step % 3 == 0:
                    s.trim_before(t - 20_000)
            if step % 100 == 0:
                head.get_or_create(lbl(__name__="m_new", i=str(step)))
                head.drop_series(lambda s: dict(s.labels).get("__name__") != "m_new")
    finally:
        stop.set()
        for t in threads:
            t.join()
        sys.setswitchinterval(interval)
    assert not errors, errors[0]
    assert reads[0] > 0


def _labels(i: int) -> Labels:
    return (
        ("__name__", f"metric_{i % 100}_total"),
        ("endpoint", f"/e{i // 100 % 20}"),
        ("instance", f"host{i // 2000}:9100"),
        ("job", "api"),
        ("status", str(200 + i % 5)),
        ("tenant", f"t{i % 50}"),
    )


def test_an_active_series_with_20_samples_costs_under_1_kib() -> None:
    """The issue's memory goal, measured with tracemalloc (label strings made beforehand,
    as a scrape's parser interns them). 200,000 series measure ~890 bytes each."""
    n = 50_000
    every = [_labels(i) for i in range(n)]
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        head = Head()
        series = [head.get_or_create(labels) for labels in every]
        for k in range(20):
            for s in series:
                s.append(1_700_000_000_000 + 15_000 * k, float(k))
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    per_series = used / n
    assert per_series < 1024, f"{per_series:.0f} bytes per series"
    estimate = head.stats().bytes / n
    assert abs(estimate - per_series) < 0.2 * per_series  # what /metrics reports is honest


def test_select_packed_holds_what_select_returns() -> None:
    from tenantwatch.promql.model import Matcher, labels_of

    head = Head()
    for i in range(5):
        labels = labels_of({"__name__": "x", "i": str(i)})
        for t in range(0, 100_000, 10_000):
            head.append(labels, t + i, float(t + i))
    matchers = [Matcher.of("__name__", "=", "x"), Matcher.of("i", "!=", "3")]
    packed = head.select_packed(matchers, 20_000, 50_000)
    plain = head.select(matchers, 20_000, 50_000)
    assert packed.labels == [sd.labels for sd in plain]
    assert packed.lengths.tolist() == [len(sd.ts) for sd in plain]
    assert packed.ts.tolist() == [t for sd in plain for t in sd.ts.tolist()]
    assert packed.vals.tolist() == [v for sd in plain for v in sd.vals.tolist()]
    empty = head.select_packed([Matcher.of("__name__", "=", "nope")], 0, 1)
    assert empty.labels == [] and len(empty.ts) == 0
