"""Run promqltest scripts against the engine and report each eval as passed, failed or
skipped (with the reason), the way Prometheus' own harness checks its engine.

Instant evals are also re-run as upstream does: with `@ <t>` added to every selector at
other evaluation times, and each query as a range query from t-1m to t+1m step 1m whose
middle step must equal the instant result. Data lives in a store made by `new_store`
(the CLI passes the metrics head); `clear` starts a new one.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from tenantwatch.gotext.floats import format_json
from tenantwatch.promql import testquery
from tenantwatch.promql.engine import Engine
from tenantwatch.promql.model import (
    METRIC_NAME,
    MatrixResult,
    PromQLError,
    QueryResult,
    ScalarResult,
    SeriesSource,
    VectorResult,
    VectorSample,
    format_labels,
    label_value,
)
from tenantwatch.promql.testcompare import check_annotations, check_failure, compare, unsorted
from tenantwatch.promql.testscript import (
    Clear,
    Command,
    Eval,
    Load,
    ScriptError,
    parse_script,
)
from tenantwatch.promql.testvalues import parse_number
from tenantwatch.types import Labels

Status = Literal["passed", "failed", "skipped"]
RANGE_CHECK_MS = 60_000
_NATIVE = "reads native histograms, which are not loaded"
_TYPE_UNIT = "reads series with the experimental __type__/__unit__ labels"


class ScriptStore(SeriesSource, Protocol):
    """Where loaded samples go; the engine reads them back as a SeriesSource."""

    def append(self, labels: Labels, t: int, v: float) -> Any: ...


class QueryEngine(Protocol):
    def instant(self, query: str, t: int) -> QueryResult: ...

    def range(self, query: str, start: int, end: int, step: int) -> QueryResult: ...


@dataclass(frozen=True, slots=True)
class CaseResult:
    """One eval block: where it is, and for failures and skips, why."""

    line: int
    expr: str
    status: Status
    detail: str = ""


@dataclass(slots=True)
class ScriptResult:
    path: str
    cases: list[CaseResult] = field(default_factory=list)
    error: str | None = None  # the script could not be read or run; counts as a failure

    def count(self, status: Status) -> int:
        return sum(1 for c in self.cases if c.status == status)

    @property
    def passed(self) -> int:
        return self.count("passed")

    @property
    def failed(self) -> int:
        return self.count("failed") + (1 if self.error else 0)

    @property
    def skipped(self) -> int:
        return self.count("skipped")


def run_file(
    path: Path,
    new_store: Callable[[], ScriptStore],
    new_engine: Callable[[SeriesSource], QueryEngine] = Engine,
) -> ScriptResult:
    """Read and run one script file; an unreadable file is reported, not raised."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return ScriptResult(str(path), error=f"{path}: cannot read the file: {exc}")
    return run_script(text, str(path), new_store, new_engine)


def run_script(
    text: str,
    path: str,
    new_store: Callable[[], ScriptStore],
    new_engine: Callable[[SeriesSource], QueryEngine] = Engine,
) -> ScriptResult:
    """Run a script's commands in order and return every eval's result."""
    try:
        commands = parse_script(text, path)
    except ScriptError as exc:
        return ScriptResult(path, error=str(exc))
    return _Run(path, new_store, new_engine).run(commands)


class _Run:
    def __init__(
        self,
        path: str,
        new_store: Callable[[], ScriptStore],
        new_engine: Callable[[SeriesSource], QueryEngine],
    ) -> None:
        self.path = path
        self.new_store = new_store
        self.new_engine = new_engine
        self.clear()

    def clear(self) -> None:
        self.store = self.new_store()
        self.engine = self.new_engine(self.store)
        # Series a case may be skipped for reading, with the reason.
        self.special: list[tuple[Labels, str]] = []
        self.with_st: list[Labels] = []

    def run(self, commands: Iterable[Command]) -> ScriptResult:
        result = ScriptResult(self.path)
        for cmd in commands:
            if isinstance(cmd, Clear):
                self.clear()
            elif isinstance(cmd, Load):
                self.load(cmd)
            else:
                result.cases.append(self.case(cmd))
        return result

    def load(self, cmd: Load) -> None:
        for s in cmd.series:
            if s.has_histogram:
                self.special.append((s.labels, _NATIVE))
            if any(k in ("__type__", "__unit__") for k, _ in s.labels):
                self.special.append((s.labels, _TYPE_UNIT))
            for i, v in enumerate(s.values):
                if isinstance(v, float):
                    self.store.append(s.labels, i * cmd.interval_ms, v)
        if cmd.with_nhcb:
            for s in cmd.series:
                if (native := _nhcb_series(s.labels)) is not None:
                    self.special.append((native, _NATIVE))
        self.with_st += cmd.start_timestamps

    def case(self, ev: Eval) -> CaseResult:
        """Run one eval. A case the README lets us skip (native histograms, experimental
        features) still runs: it passes if the engine gets it right anyway, and is
        skipped, with the reason and what went wrong, if not."""
        if ev.has_histogram:
            return CaseResult(ev.line, ev.expr, "skipped", "expects native histogram values")
        reason: str | None = None
        tree: Any | None = None
        try:
            tree = testquery.parse(ev.expr)
            reason = self.skip_reason(ev, tree)
            problem = self.instant(ev, tree) if ev.kind == "instant" else self.range(ev)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            problem = f"crashed: {_crash(exc)}"
        if problem is None:
            return CaseResult(ev.line, ev.expr, "passed")
        if reason:
            first = problem.partition("\n")[0]
            return CaseResult(ev.line, ev.expr, "skipped", f"{reason}; here: {first}")
        for labels in self.with_st:
            if testquery.reads(ev.expr, tree, labels):
                problem += (
                    f"\nnote: {format_labels(labels)} has @st start timestamps, which this "
                    "runner loads without (they change rate/increase/resets at counter starts)"
                )
                break
        return CaseResult(
            ev.line, ev.expr, "failed", f"{self.path}:{ev.line}: {ev.expr}\n{problem}"
        )

    def skip_reason(self, ev: Eval, tree: Any | None) -> str | None:
        """Why the README allows skipping this eval, or None if it must pass."""
        feature = testquery.experimental_feature(ev.expr, tree)
        if feature:
            return f"uses {feature}"
        for labels, why in self.special:
            if testquery.reads(ev.expr, tree, labels):
                return f"{why} ({format_labels(labels)})"
        return None

    # -- instant evals -------------------------------------------------------------
    def instant(self, ev: Eval, tree: Any | None) -> str | None:
        runs = [testquery.Variant(ev.expr, ev.eval_ms)]
        pinning = None
        if tree is not None:
            try:
                runs += testquery.at_variants(tree, ev.eval_ms)
            except ValueError as exc:
                pinning = f"cannot add @ for the re-runs upstream makes: {exc}"
        for run in runs:
            problem = self.instant_once(ev, run.expr, run.t)
            if problem:
                if run.expr == ev.expr and run.t == ev.eval_ms:
                    return problem
                return f"re-run as `{run.expr}` at {run.t}ms: {problem}"
        return pinning

    def instant_once(self, ev: Eval, expr: str, t: int) -> str | None:
        try:
            res = self.engine.instant(expr, t)
        except PromQLError as exc:
            if ev.expects_fail:
                return check_failure(ev, str(exc))
            return f"the query failed: {exc}"
        if ev.expects_fail:
            return f"expected the query to fail, but it returned {_summary(res)}"
        problem = check_annotations(ev, res.warnings, res.infos) or compare(ev, res.value)
        if problem or ev.exclude_from_range_check or testquery.QUERY_CONTEXT_FUNCS.search(expr):
            return problem
        problem = self.range_check(ev, expr, t, res)
        if problem is None:
            return None
        window = f"from {t - RANGE_CHECK_MS}ms to {t + RANGE_CHECK_MS}ms step 1m"
        return f"as a range query {window}, at {t}ms: {problem}"

    def range_check(self, ev: Eval, expr: str, t: int, instant: QueryResult) -> str | None:
        """The middle step of a range query around t must equal the instant result."""
        try:
            res = self.engine.range(expr, t - RANGE_CHECK_MS, t + RANGE_CHECK_MS, RANGE_CHECK_MS)
        except PromQLError as exc:
            return f"the query failed: {exc}"
        if ev.is_ordered:
            return None  # range results are sorted by labels; order cannot be checked
        if not isinstance(res.value, MatrixResult):
            return f"a range query must return a matrix, got {type(res.value).__name__}"
        series = res.value.series
        if problem := unsorted(series):
            return problem
        at_t = [VectorSample(s.labels, t, v) for s in series for pt, v in s.points if pt == t]
        if isinstance(instant.value, ScalarResult):
            if not at_t:
                return f"no point at {t}ms for the scalar result"
            return compare(ev, ScalarResult(t, at_t[0].v))
        return compare(ev, VectorResult(tuple(at_t)))

    # -- range evals -----------------------------------------------------------------
    def range(self, ev: Eval) -> str | None:
        try:
            res = self.engine.range(ev.expr, ev.start_ms, ev.end_ms, ev.step_ms)
        except PromQLError as exc:
            if ev.expects_fail:
                return check_failure(ev, str(exc))
            return f"the query failed: {exc}"
        if ev.expects_fail:
            return f"expected the query to fail, but it returned {_summary(res)}"
        return check_annotations(ev, res.warnings, res.infos) or compare(ev, res.value)


def _nhcb_series(labels: Labels) -> Labels | None:
    """The native histogram `load_with_nhcb` derives from a classic histogram series."""
    name = label_value(labels, METRIC_NAME)
    for suffix in ("_bucket", "_count", "_sum"):
        if name.endswith(suffix) and len(name) > len(suffix):
            if suffix == "_bucket" and not _is_bound(label_value(labels, "le")):
                return None
            base = name.removesuffix(suffix)
            rest = [(k, v) for k, v in labels if k not in (METRIC_NAME, "le")]
            return tuple(sorted([(METRIC_NAME, base), *rest]))
    return None


def _is_bound(le: str) -> bool:
    try:
        v = parse_number(le)
    except ValueError:
        return False
    return v == v


def _summary(res: QueryResult) -> str:
    v = res.value
    if isinstance(v, VectorResult):
        return f"a vector of {len(v.samples)} samples"
    if isinstance(v, MatrixResult):
        return f"a matrix of {len(v.series)} series"
    if isinstance(v, ScalarResult):
        return f"the scalar {format_json(v.v)}"
    return f"a {type(v).__name__}"


def _crash(exc: BaseException) -> str:
    frames: Sequence[traceback.FrameSummary] = traceback.extract_tb(exc.__traceback__)
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


__all__ = ["CaseResult", "QueryEngine", "ScriptResult", "ScriptStore", "run_file", "run_script"]
