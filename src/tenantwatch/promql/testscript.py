"""Parse Prometheus promqltest scripts (load / clear / eval blocks) into commands.

The language is upstream's (promql/promqltest/README.md); see
../shared/conformance/promql/README.md. Parsing is pure: text in, commands out, and every
error names the file and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from tenantwatch.gotext.quote import unquote
from tenantwatch.promql.testvalues import (
    Histogram,
    SeqValue,
    parse_duration,
    parse_number,
    parse_series_line,
)
from tenantwatch.types import Labels

__all__ = [
    "Clear",
    "Eval",
    "Expect",
    "ExpectKind",
    "Histogram",
    "Load",
    "ScriptError",
    "SeqValue",
    "SeriesLine",
    "parse_script",
]

ExpectKind = Literal["ordered", "fail", "warn", "no_warn", "info", "no_info"]

_LOAD = re.compile(r"^load(?:_(with_nhcb))?\s+(.+?)$")
_EVAL_INSTANT = re.compile(
    r"^eval(?:_(fail|warn|ordered|info))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$"
)
_EVAL_RANGE = re.compile(
    r"^eval(?:_(fail|warn|info))?\s+range\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+?)\s+(.+)$"
)
_EXPECT = re.compile(r"^expect\s+(ordered|fail|warn|no_warn|info|no_info)(?:\s+(regex|msg):(.+))?$")
_RANGE_VECTOR = "expect range vector"
_RANGE_VECTOR_RE = re.compile(r"^expect range vector\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+)$")
_EXPECT_STRING = "expect string"


class ScriptError(Exception):
    """A script that cannot be read; str() is `file:line: what is wrong and how to fix it`."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line
        self.message = message


@dataclass(frozen=True, slots=True)
class SeriesLine:
    """`<series> <values>`: a label set and one value per step (None = `_`, no sample)."""

    labels: Labels
    values: tuple[SeqValue, ...]
    line: int

    @property
    def has_histogram(self) -> bool:
        return any(isinstance(v, Histogram) for v in self.values)


@dataclass(frozen=True, slots=True)
class Load:
    """`load <interval>`: samples at t = 0, interval, 2*interval, ... for each series."""

    line: int
    interval_ms: int
    series: tuple[SeriesLine, ...]
    with_nhcb: bool = False
    # Series given `<series>@st <offsets>` start-timestamp lines (not modelled; their
    # samples load without start timestamps).
    start_timestamps: tuple[Labels, ...] = ()


@dataclass(frozen=True, slots=True)
class Clear:
    line: int


@dataclass(frozen=True, slots=True)
class Expect:
    """An `expect <kind> [msg:|regex:] ...` line; neither message nor regex = any."""

    kind: ExpectKind
    message: str | None = None
    regex: re.Pattern[str] | None = None

    def matches(self, text: str) -> bool:
        if self.message is not None:
            return text == self.message
        if self.regex is not None:
            return self.regex.search(text) is not None
        return True

    def describe(self) -> str:
        if self.message is not None:
            return f"message {self.message!r}"
        if self.regex is not None:
            return f"pattern {self.regex.pattern!r}"
        return "anything"


@dataclass(frozen=True, slots=True)
class RangeSpec:
    start_ms: int
    end_ms: int
    step_ms: int


@dataclass(slots=True)
class Eval:
    """One `eval` block: the query, when to run it, and what must come out.

    For instant evals `start_ms == end_ms` is the evaluation time and `step_ms` is 0,
    unless `expect range vector` set the window the result's points are laid out on.
    """

    line: int
    kind: Literal["instant", "range"]
    expr: str
    start_ms: int
    end_ms: int
    step_ms: int
    eval_ms: int
    series: list[SeriesLine] = field(default_factory=list)
    scalar: float | None = None
    string: str | None = None
    range_vector: RangeSpec | None = None
    expects: list[Expect] = field(default_factory=list)
    # The deprecated eval_fail / eval_warn / eval_info / eval_ordered forms.
    fail: bool = False
    warn: bool = False
    info: bool = False
    ordered: bool = False
    fail_message: str | None = None
    fail_regexp: re.Pattern[str] | None = None

    def of_kind(self, kind: ExpectKind) -> list[Expect]:
        return [e for e in self.expects if e.kind == kind]

    @property
    def expects_fail(self) -> bool:
        return self.fail or bool(self.of_kind("fail"))

    @property
    def is_ordered(self) -> bool:
        return self.ordered or bool(self.of_kind("ordered"))

    @property
    def exclude_from_range_check(self) -> bool:
        """`expect range vector` and `expect string` results cannot come from a range query."""
        return self.range_vector is not None or self.string is not None

    @property
    def has_histogram(self) -> bool:
        return any(s.has_histogram for s in self.series)


Command = Load | Clear | Eval


def parse_script(text: str, path: str = "<script>") -> list[Command]:
    """Return the commands of a promqltest script; raise ScriptError naming file:line."""
    return _Parser(text, path).parse()


class _Parser:
    def __init__(self, text: str, path: str) -> None:
        self.path = path
        # As upstream: lines are trimmed and a comment line is blank, so it ends a block.
        self.lines = ["" if s.strip().startswith("#") else s.strip() for s in text.split("\n")]

    def error(self, index: int, message: str) -> ScriptError:
        return ScriptError(self.path, index + 1, message)

    def parse(self) -> list[Command]:
        commands: list[Command] = []
        i = 0
        while i < len(self.lines):
            line = self.lines[i]
            if not line:
                i += 1
                continue
            word = re.split(r"[\t ]+", line, maxsplit=1)[0].lower()
            cmd: Command
            if word == "clear":
                cmd = Clear(i + 1)
            elif word.startswith("load"):
                i, cmd = self.load(i)
            elif word.startswith("eval"):
                i, cmd = self.eval(i)
            else:
                raise self.error(
                    i, f"unknown command {line!r}; a block starts with load, clear or eval"
                )
            commands.append(cmd)
            i += 1
        return commands

    def block(self, start: int) -> list[int]:
        """Indexes of the lines after `start` up to the first blank line."""
        out = []
        i = start + 1
        while i < len(self.lines) and self.lines[i]:
            out.append(i)
            i += 1
        return out

    def series(self, index: int) -> SeriesLine:
        try:
            labels, values = parse_series_line(self.lines[index])
        except ValueError as exc:
            raise self.error(index, str(exc)) from None
        return SeriesLine(labels, tuple(values), index + 1)

    def duration(self, index: int, text: str, what: str) -> int:
        try:
            return parse_duration(text)
        except ValueError as exc:
            raise self.error(index, f"{what}: {exc}") from None

    def load(self, i: int) -> tuple[int, Load]:
        m = _LOAD.match(self.lines[i])
        if m is None:
            raise self.error(i, "invalid load command; write `load <interval>`, e.g. `load 1m`")
        interval = self.duration(i, m.group(2), "invalid load interval")
        series: dict[Labels, SeriesLine] = {}
        with_st = []
        last = i
        for j in self.block(i):
            last = j
            name = re.split(r"[\t ]", self.lines[j], maxsplit=1)[0]
            if name.endswith("@st"):
                with_st.append(self.series_labels(j, name.removesuffix("@st")))
                continue
            s = self.series(j)
            series[s.labels] = s  # as upstream, a series given twice keeps its last line
        nhcb = m.group(1) == "with_nhcb"
        return last, Load(i + 1, interval, tuple(series.values()), nhcb, tuple(with_st))

    def series_labels(self, index: int, descriptor: str) -> Labels:
        try:
            return parse_series_line(descriptor)[0]
        except ValueError as exc:
            raise self.error(index, str(exc)) from None

    def eval(self, i: int) -> tuple[int, Eval]:
        cmd = self.eval_header(i)
        last = i
        for j in self.block(i):
            last = j
            line = self.lines[j]
            if line.startswith(("expected_fail_message", "expected_fail_regexp")):
                if not cmd.fail:
                    raise self.error(
                        j, f"{line.split()[0]} needs `eval_fail`; or use `expect fail`"
                    )
                self.fail_expectation(cmd, j)
                return j, cmd  # as upstream, this line ends the block
            if line.startswith(_RANGE_VECTOR):
                self.range_vector(cmd, j)
            elif line.startswith(_EXPECT_STRING):
                cmd.string = self.expect_string(j)
            elif line.split(" ")[0] == "expect":
                cmd.expects.append(self.expect(cmd, j))
            elif (number := _number(line)) is not None:
                cmd.scalar = number
                cmd.series.clear()
                return j, cmd  # as upstream, a scalar ends the block
            else:
                s = self.series(j)
                if not s.values:
                    raise self.error(j, "expected values after the series, e.g. `{} 1`")
                if len(s.values) > 1 and cmd.kind == "instant" and cmd.range_vector is None:
                    raise self.error(
                        j,
                        "an instant eval expects one value per series; to expect a range "
                        "vector add `expect range vector from <t> to <t> step <d>` first",
                    )
                cmd.series = [x for x in cmd.series if x.labels != s.labels]
                cmd.series.append(s)
                cmd.scalar = None
        return last, cmd

    def eval_header(self, i: int) -> Eval:
        line = self.lines[i]
        if m := _EVAL_INSTANT.match(line):
            mod, at, expr = m.group(1), m.group(2), m.group(3)
            if at is None:
                raise self.error(
                    i, "missing evaluation time; write `eval instant at <time> <expr>`"
                )
            t = self.duration(i, at, "invalid evaluation time")
            cmd = Eval(i + 1, "instant", expr, t, t, 0, t)
        elif m := _EVAL_RANGE.match(line):
            mod, expr = m.group(1), m.group(5)
            start = self.duration(i, m.group(2), "invalid range start")
            end = self.duration(i, m.group(3), "invalid range end")
            step = self.duration(i, m.group(4), "invalid range step")
            if end < start:
                raise self.error(i, f"range end {m.group(3)} is before its start {m.group(2)}")
            if step <= 0:
                raise self.error(i, "the range step must be positive")
            cmd = Eval(i + 1, "range", expr, start, end, step, end)
        else:
            raise self.error(
                i,
                "invalid eval command; write `eval instant at <time> <expr>` or "
                "`eval range from <time> to <time> step <duration> <expr>`",
            )
        cmd.fail = mod == "fail"
        cmd.warn = mod == "warn"
        cmd.info = mod == "info"
        cmd.ordered = mod == "ordered"
        return cmd

    def fail_expectation(self, cmd: Eval, j: int) -> None:
        line = self.lines[j]
        if line.startswith("expected_fail_message"):
            cmd.fail_message = line.removeprefix("expected_fail_message").strip()
            return
        pattern = line.removeprefix("expected_fail_regexp").strip()
        cmd.fail_regexp = self.regex(j, pattern)

    def regex(self, j: int, pattern: str) -> re.Pattern[str]:
        try:
            return re.compile(pattern)
        except re.error as exc:
            raise self.error(j, f"invalid regular expression {pattern!r}: {exc}") from None

    def range_vector(self, cmd: Eval, j: int) -> None:
        m = _RANGE_VECTOR_RE.match(self.lines[j])
        if m is None:
            raise self.error(
                j, "invalid range vector line; write `expect range vector from <t> to <t> step <d>`"
            )
        start = self.duration(j, m.group(1), "invalid range vector start")
        end = self.duration(j, m.group(2), "invalid range vector end")
        step = self.duration(j, m.group(3), "invalid range vector step")
        if end < start:
            raise self.error(j, f"range vector end {m.group(2)} is before its start {m.group(1)}")
        if cmd.kind != "instant":
            raise self.error(j, "`expect range vector` only applies to instant evals")
        cmd.range_vector = RangeSpec(start, end, step)
        cmd.start_ms, cmd.end_ms, cmd.step_ms, cmd.eval_ms = start, end, step, end

    def expect_string(self, j: int) -> str:
        line = self.lines[j]
        text = line.removeprefix(_EXPECT_STRING + " ") if line != _EXPECT_STRING else ""
        hint = 'write `expect string "<text>"` (double quotes or backquotes)'
        if not text:
            raise self.error(j, f"expected a quoted string; {hint}")
        try:
            return unquote(text)
        except ValueError as exc:
            raise self.error(j, f"{exc}; {hint}") from None

    def expect(self, cmd: Eval, j: int) -> Expect:
        m = _EXPECT.match(self.lines[j])
        if m is None:
            raise self.error(
                j,
                "invalid expect line; write `expect <fail|warn|info|no_warn|no_info|ordered>` "
                "optionally followed by `msg: <text>` or `regex: <pattern>`",
            )
        kind: ExpectKind = m.group(1)  # type: ignore[assignment]
        exp = Expect(kind)
        if m.group(2) == "msg":
            exp = Expect(kind, message=m.group(3).strip())
        elif m.group(2) == "regex":
            exp = Expect(kind, regex=self.regex(j, m.group(3).strip()))
        kinds = {e.kind for e in cmd.expects} | {kind}
        if {"info", "no_info"} <= kinds:
            raise self.error(j, "`expect info` and `expect no_info` cannot be used together")
        if {"warn", "no_warn"} <= kinds:
            raise self.error(j, "`expect warn` and `expect no_warn` cannot be used together")
        if kind == "fail" and cmd.of_kind("fail"):
            raise self.error(j, "only one `expect fail` line is allowed per eval")
        return exp


def _number(line: str) -> float | None:
    try:
        return parse_number(line)
    except ValueError:
        return None
