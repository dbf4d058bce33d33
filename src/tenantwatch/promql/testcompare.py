"""Compare a query's result, error and annotations with an eval's expectations, as the
upstream promqltest harness does. Every function returns a failure message or None."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from tenantwatch.gotext.floats import format_json
from tenantwatch.promql.model import (
    MatrixResult,
    ScalarResult,
    Series,
    StringResult,
    Value,
    VectorResult,
    VectorSample,
    format_labels,
    is_stale,
)
from tenantwatch.promql.testscript import Eval, Expect, Histogram, SeqValue, SeriesLine
from tenantwatch.types import Labels

EPSILON = 1e-6  # relative error allowed for sample values
_MIN_NORMAL = 2.2250738585072014e-308
_MAX_SHOWN = 12


def almost_equal(a: float, b: float, epsilon: float = EPSILON) -> bool:
    """True if a and b differ by less than epsilon relative to their size; NaN equals NaN,
    and a stale marker equals only a stale marker."""
    if is_stale(a) or is_stale(b):
        return is_stale(a) and is_stale(b)
    if math.isnan(a) and math.isnan(b):
        return True
    if a == b:
        return True
    abs_sum = abs(a) + abs(b)
    diff = abs(a - b)
    if a == 0 or b == 0 or abs_sum < _MIN_NORMAL:
        return diff < epsilon * _MIN_NORMAL
    return diff / min(abs_sum, 1.7976931348623157e308) < epsilon


def check_failure(ev: Eval, message: str) -> str | None:
    """When the eval expects an error: does this one match what it names?"""
    if ev.fail_message is not None and ev.fail_message != message:
        return f"expected the error {ev.fail_message!r}, got {message!r}"
    if ev.fail_regexp is not None and not ev.fail_regexp.search(message):
        return f"expected an error matching {ev.fail_regexp.pattern!r}, got {message!r}"
    for exp in ev.of_kind("fail"):
        if not exp.matches(message):
            return f"expected an error matching {exp.describe()}, got {message!r}"
    return None


def check_annotations(ev: Eval, warnings: Sequence[str], infos: Sequence[str]) -> str | None:
    if ev.warn and not warnings:
        return "expected warnings (eval_warn), got none"
    if ev.info and not infos:
        return "expected info annotations (eval_info), got none"
    for kind, got in (("warn", warnings), ("info", infos)):
        if problem := _check_kind(ev.of_kind(kind), got, kind):  # type: ignore[arg-type]
            return problem
    if ev.of_kind("no_warn") and warnings:
        return f"expected no warnings, got {list(warnings)}"
    if ev.of_kind("no_info") and infos:
        return f"expected no info annotations, got {list(infos)}"
    return None


def _check_kind(expected: list[Expect], got: Sequence[str], kind: str) -> str | None:
    if not expected:
        return None
    if not got:
        return f"expected {kind} annotations, got none"
    for exp in expected:
        if not any(exp.matches(a) for a in got):
            return f"expected a {kind} annotation matching {exp.describe()}, got {list(got)}"
    for a in got:
        if not any(exp.matches(a) for exp in expected):
            return f"unexpected {kind} annotation {a!r}"
    return None


def compare(ev: Eval, value: Value) -> str | None:
    """Does the result value match the eval's expected lines?"""
    if isinstance(value, MatrixResult):
        return _compare_matrix(ev, value.series)
    if isinstance(value, VectorResult):
        return _compare_vector(ev, value.samples)
    if isinstance(value, ScalarResult):
        if ev.scalar is None:
            return f"expected a vector or matrix, got the scalar {format_json(value.v)}"
        if not almost_equal(ev.scalar, value.v):
            return f"expected the scalar {format_json(ev.scalar)}, got {format_json(value.v)}"
        return None
    if isinstance(value, StringResult):
        want = ev.string or ""
        return None if want == value.v else f"expected the string {want!r}, got {value.v!r}"
    return f"the engine returned an unknown result type {type(value).__name__}"


def _compare_vector(ev: Eval, samples: Sequence[VectorSample]) -> str | None:
    if ev.scalar is not None:
        return f"expected the scalar {format_json(ev.scalar)}, got a vector" + _block(
            _got_vector(samples)
        )
    expected = {s.labels: (pos, s) for pos, s in enumerate(ev.series, 1)}
    problems: list[str] = []
    seen: set[Labels] = set()
    for pos, sample in enumerate(samples, 1):
        name = format_labels(sample.labels)
        if sample.labels in seen:
            problems.append(f"{name} is in the result twice")
            continue
        seen.add(sample.labels)
        found = expected.get(sample.labels)
        if found is None:
            problems.append(f"unexpected {name} {format_json(sample.v)}")
            continue
        want_pos, line = found
        if ev.is_ordered and want_pos != pos:
            problems.append(f"{name} is at position {pos}, expected at {want_pos}")
        want = _float(line.values[0])
        if want is None:
            problems.append(f"{name}: cannot compare with {line.values[0]}")
        elif not almost_equal(want, sample.v):
            problems.append(f"{name}: expected {format_json(want)}, got {format_json(sample.v)}")
    problems += [f"missing {format_labels(lab)}" for lab in expected if lab not in seen]
    if not problems:
        return None
    return _report(problems, _expected_lines(ev.series), _got_vector(samples))


def _compare_matrix(ev: Eval, series: Sequence[Series]) -> str | None:
    if ev.is_ordered:
        return "expected an ordered result, but the query returned a matrix"
    if ev.scalar is not None:
        return f"expected the scalar {format_json(ev.scalar)}, got a matrix" + _block(
            _got_matrix(series)
        )
    if ev.kind == "instant" and ev.range_vector is None and series:
        return (
            "the query returned a range vector; to expect one add "
            "`expect range vector from <t> to <t> step <d>`" + _block(_got_matrix(series))
        )
    if problem := unsorted(series):
        return problem
    expected = {s.labels: s for s in ev.series}
    problems: list[str] = []
    seen: set[Labels] = set()
    for s in series:
        name = format_labels(s.labels)
        if s.labels in seen:
            problems.append(f"{name} is in the result twice")
            continue
        seen.add(s.labels)
        line = expected.get(s.labels)
        if line is None:
            problems.append(f"unexpected {name} {_points(s.points)}")
            continue
        want, problem = _expected_points(ev, line)
        if problem:
            problems.append(problem)
        elif len(want) != len(s.points):
            problems.append(
                f"{name}: expected {len(want)} points {_points(want)}, "
                f"got {len(s.points)} {_points(s.points)}"
            )
        else:
            for (wt, wv), (gt, gv) in zip(want, s.points, strict=True):
                if wt != gt or not almost_equal(wv, gv):
                    problems.append(
                        f"{name}: expected {format_json(wv)} @{wt}, got {format_json(gv)} @{gt}"
                    )
                    break
    problems += [f"missing {format_labels(lab)}" for lab in expected if lab not in seen]
    if not problems:
        return None
    return _report(problems, _expected_lines(ev.series), _got_matrix(series))


def unsorted(series: Sequence[Series]) -> str | None:
    """Matrices are sorted by labels; name the first pair out of order."""
    for a, b in itertools.pairwise(series):
        if a.labels > b.labels:
            return (
                f"a matrix must be sorted by labels, but {format_labels(a.labels)} "
                f"comes before {format_labels(b.labels)}"
            )
    return None


def _expected_points(ev: Eval, line: SeriesLine) -> tuple[list[tuple[int, float]], str | None]:
    out: list[tuple[int, float]] = []
    for i, v in enumerate(line.values):
        t = ev.start_ms + i * ev.step_ms
        if t > ev.end_ms or (ev.step_ms == 0 and i > 0):
            return out, (
                f"line {line.line}: {len(line.values)} values, but the range "
                f"from {ev.start_ms}ms to {ev.end_ms}ms has fewer steps"
            )
        if isinstance(v, Histogram):
            return out, f"line {line.line}: cannot compare a native histogram"
        if v is not None:
            out.append((t, v))
    return out, None


def _float(v: SeqValue) -> float | None:
    return v if isinstance(v, float) else (0.0 if v is None else None)


def _points(points: Sequence[tuple[int, float]]) -> str:
    shown = " ".join(f"{format_json(v)}@{t}" for t, v in points[:_MAX_SHOWN])
    return f"[{shown}{' ...' if len(points) > _MAX_SHOWN else ''}]"


def _report(problems: list[str], expected: list[str], got: list[str]) -> str:
    lines = problems[:_MAX_SHOWN]
    if len(problems) > _MAX_SHOWN:
        lines.append(f"... and {len(problems) - _MAX_SHOWN} more")
    return "\n".join([*lines, "expected:", *_cap(expected), "got:", *_cap(got)])


def _block(lines: list[str]) -> str:
    return "\n" + "\n".join(_cap(lines))


def _cap(lines: list[str]) -> list[str]:
    if not lines:
        return ["  (nothing)"]
    if len(lines) > _MAX_SHOWN:
        return [*lines[:_MAX_SHOWN], f"  ... {len(lines) - _MAX_SHOWN} more"]
    return lines


def _expected_lines(series: Sequence[SeriesLine]) -> list[str]:
    return [
        f"  {format_labels(s.labels)} {' '.join(_seq(v) for v in s.values[:_MAX_SHOWN])}"
        for s in series
    ]


def _seq(v: SeqValue) -> str:
    if v is None:
        return "_"
    if isinstance(v, Histogram):
        return v.text
    return "stale" if is_stale(v) else format_json(v)


def _got_vector(samples: Sequence[VectorSample]) -> list[str]:
    return [f"  {format_labels(s.labels)} {format_json(s.v)}" for s in samples]


def _got_matrix(series: Sequence[Series]) -> list[str]:
    return [f"  {format_labels(s.labels)} {_points(s.points)}" for s in series]
