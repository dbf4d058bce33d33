"""Gatus-style check conditions: a small hand-written parser (condition_eval.py judges them).

    [STATUS] == 200            [RESPONSE_TIME] < 500        [BODY].data.items[0].ok == true
    [BODY] == pat(*healthy*)   len([BODY].items) > 0        [CERTIFICATE_EXPIRATION] > 72h
    [CONNECTED] == true        [DNS_RCODE] == NOERROR       [STATUS] == any(200, 429)
    has([BODY].errors) == false                             [BODY].age == [BODY].id

A condition is `left OP right` with exactly one of == != < <= > >=. Two numbers compare as
numbers; anything else compares as text, with == and != only. Durations such as 500ms, 30s,
72h, 1h30m or 2d are milliseconds when compared with [RESPONSE_TIME] or
[CERTIFICATE_EXPIRATION]. pat() and any() go on the right of == or !=.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PLACEHOLDERS = (
    "STATUS",
    "RESPONSE_TIME",
    "BODY",
    "CERTIFICATE_EXPIRATION",
    "CONNECTED",
    "DNS_RCODE",
    "IP",
    "VALUE",
)
OPERATORS = ("==", "!=", "<=", ">=", "<", ">")
FUNCTIONS = ("len", "has", "pat", "any")
_TIME_PLACEHOLDERS = ("RESPONSE_TIME", "CERTIFICATE_EXPIRATION")
_KNOWN = ", ".join(f"[{p}]" for p in PLACEHOLDERS)
_EXAMPLE = "e.g. [STATUS] == 200"
_FUNCTION = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\(")
_DURATION = re.compile(r"-?(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h|d))+")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)")
_UNIT_MS = {
    "ns": 1e-6,
    "us": 1e-3,
    "µs": 1e-3,
    "ms": 1.0,
    "s": 1000.0,
    "m": 60_000.0,
    "h": 3_600_000.0,
    "d": 86_400_000.0,
}
_KEY_STOP = frozenset(".[]()<>=!,") | frozenset(" \t\r\n")
_LITERAL_STOP = frozenset("[]()")


class ConditionError(ValueError):
    """A condition that cannot be parsed; .column is the 1-based column of the problem."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(message)
        self.column = column


# -- the parsed form ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Placeholder:
    text: str
    name: str
    path: tuple[str | int, ...] = ()


@dataclass(frozen=True, slots=True)
class _Call:
    """len(...) or has(...) around a placeholder."""

    text: str
    func: str
    arg: _Placeholder


@dataclass(frozen=True, slots=True)
class _Literal:
    text: str
    duration_ms: float | None = None


@dataclass(frozen=True, slots=True)
class _Pattern:
    text: str
    pattern: str


@dataclass(frozen=True, slots=True)
class _AnyOf:
    text: str
    values: tuple[_Literal, ...]


_Operand = _Placeholder | _Call | _Literal
_Right = _Operand | _Pattern | _AnyOf


@dataclass(frozen=True, slots=True)
class Condition:
    """A parsed condition; .text is the original text."""

    text: str
    left: _Operand
    op: str
    right: _Right


# -- parsing -----------------------------------------------------------------------------------


def parse_condition(text: str) -> Condition:
    """Parse one condition; raise ConditionError (with a column) saying how to fix it."""
    if not text.strip():
        raise ConditionError(f"empty condition; write one, {_EXAMPLE}", 1)
    return _Parser(text).condition()


def _duration_ms(text: str) -> float | None:
    """Milliseconds in a Go-style duration ("1h30m", "500ms", "2d"), None for anything else."""
    if not _DURATION.fullmatch(text):
        return None
    total = sum(float(n) * _UNIT_MS[unit] for n, unit in _DURATION_PART.findall(text))
    return -total if text.startswith("-") else total


class _Parser:
    """Recursive descent over the characters of one condition; pos is 0-based."""

    __slots__ = ("pos", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, message: str, at: int | None = None) -> ConditionError:
        return ConditionError(message, (self.pos if at is None else at) + 1)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_space(self) -> None:
        while self.peek().isspace():
            self.pos += 1

    def operator_here(self) -> str | None:
        return next((op for op in OPERATORS if self.text.startswith(op, self.pos)), None)

    def condition(self) -> Condition:
        self.skip_space()
        left = self.left_operand()
        self.skip_space()
        op = self.operator()
        self.skip_space()
        right = self.right_operand(op)
        self.skip_space()
        self.end()
        return Condition(self.text, left, op, right)

    def operator(self) -> str:
        op = self.operator_here()
        if op is not None:
            start = self.pos
            self.pos += len(op)
            run = op
            while self.peek() in ("=", "<", ">", "!") and self.peek():
                run += self.peek()
                self.pos += 1
            if run != op:  # '===' would compare with the text '= 200' and never hold
                raise self.fail(
                    f"{run!r} is not an operator; use one of ==, !=, <, <=, >, >=", start
                )
            return op
        ch = self.peek()
        if ch == "=":
            raise self.fail("a single '=' is not an operator; write == to compare")
        if ch in (")", "]"):
            raise self.fail(f"unbalanced {ch!r}; remove it or add its opening pair")
        raise self.fail(
            f"no operator; add an operator such as == between the two sides, {_EXAMPLE}"
        )

    def end(self) -> None:
        if self.pos >= len(self.text):
            return
        op = self.operator_here()
        if op is not None:
            raise self.fail(
                f"more than one operator ({op!r}); a condition compares two things once, "
                "so split it into two conditions"
            )
        ch = self.peek()
        if ch in (")", "]"):
            raise self.fail(f"unbalanced {ch!r}; remove it or add its opening pair")
        raise self.fail(f"unexpected {ch!r} after the right side; remove it")

    def right_operand(self, op: str) -> _Right:
        start = self.pos
        if self.pos >= len(self.text):
            raise self.fail(f"nothing on the right of {op!r}; add a value, {_EXAMPLE}")
        extra = self.operator_here()
        if extra is not None:
            raise self.fail(
                f"more than one operator ({extra!r}); keep a single operator such as =="
            )
        right = self.operand("right")
        if isinstance(right, _Pattern | _AnyOf) and op not in ("==", "!="):
            name = right.text.split("(", 1)[0]
            raise self.fail(f"{name}() works with == and != only; use one of them", start)
        return right

    def left_operand(self) -> _Operand:
        start = self.pos
        left = self.operand("left")
        if isinstance(left, _Pattern | _AnyOf):
            name = left.text.split("(", 1)[0]
            raise self.fail(
                f"{name}() belongs on the right of == or !=, e.g. [STATUS] == {name}(...)", start
            )
        return left

    def operand(self, side: str) -> _Operand | _Pattern | _AnyOf:
        start = self.pos
        if self.pos >= len(self.text) or self.operator_here() is not None:
            raise self.fail(f"nothing on the {side} of the operator; add a value, {_EXAMPLE}")
        if self.peek() == "[":
            return self.placeholder()
        if _FUNCTION.match(self.text, self.pos):
            return self.call(start)
        return self.literal()

    def placeholder(self) -> _Placeholder:
        start = self.pos
        close = start + 1
        while close < len(self.text) and self.text[close] not in "[]()":
            close += 1
        if close >= len(self.text) or self.text[close] != "]":
            raise self.fail("unclosed '['; close the placeholder with ']', e.g. [STATUS]", start)
        name = self.text[start + 1 : close]
        if name not in PLACEHOLDERS:
            hint = f"write [{name.upper()}] in capitals" if name.upper() in PLACEHOLDERS else ""
            raise self.fail(
                f"unknown placeholder [{name}]; {hint or 'use one of ' + _KNOWN}", start
            )
        self.pos = close + 1
        path_start = self.pos
        path = self.json_path()
        if path and name != "BODY":
            raise self.fail(f"only [BODY] takes a JSON path, not [{name}]", path_start)
        return _Placeholder(self.text[start : self.pos], name, path)

    def json_path(self) -> tuple[str | int, ...]:
        path: list[str | int] = []
        while self.peek() in (".", "["):
            path.append(self.path_key() if self.peek() == "." else self.path_index())
        ch = self.peek()
        if ch and ch not in _KEY_STOP:
            raise self.fail(f"malformed JSON path at {ch!r}; write .field, .list[0] or [0].field")
        return tuple(path)

    def path_key(self) -> str:
        self.pos += 1
        start = self.pos
        while self.peek() and self.peek() not in _KEY_STOP:
            self.pos += 1
        if self.pos == start:
            raise self.fail("malformed JSON path: a '.' needs a field name after it, e.g. .items")
        return self.text[start : self.pos]

    def path_index(self) -> int:
        opening = self.pos
        close = self.text.find("]", opening)
        if close < 0:
            raise self.fail("unclosed '[' in the JSON path; close it with ']', e.g. [0]", opening)
        inner = self.text[opening + 1 : close]
        if not inner.isascii() or not inner.isdigit():
            raise self.fail(
                f"malformed JSON path: [{inner}] is not an array index; write a number, e.g. [0]",
                opening + 1,
            )
        self.pos = close + 1
        return int(inner)

    def call(self, start: int) -> _Call | _Pattern | _AnyOf:
        opening = self.text.index("(", self.pos)
        func = self.text[start:opening]
        if func not in FUNCTIONS:
            raise self.fail(f"unknown function {func}(); use len(), has(), pat() or any()")
        self.pos = opening + 1
        if func in ("len", "has"):
            return self.placeholder_call(func, start, opening)
        inner = self.raw_arguments(func, opening)
        text = self.text[start : self.pos]
        if func == "pat":
            if not inner.strip():
                raise self.fail("pat() needs a pattern, e.g. pat(*healthy*)", opening + 1)
            return _Pattern(text, inner.strip())
        return _AnyOf(text, self.any_values(inner, opening + 1))

    def placeholder_call(self, func: str, start: int, opening: int) -> _Call:
        self.skip_space()
        if not self.peek():
            raise self.fail(f"unclosed '(' of {func}(); close it with ')'", opening)
        if self.peek() != "[":
            raise self.fail(f"{func}() takes a placeholder, e.g. {func}([BODY].items)")
        arg = self.placeholder()
        self.skip_space()
        if not self.peek() or self.operator_here() is not None:
            raise self.fail(f"unclosed '(' of {func}(); close it with ')'", opening)
        if self.peek() != ")":
            raise self.fail(f"{func}() takes one placeholder; close it with ')' after {arg.text}")
        self.pos += 1
        return _Call(self.text[start : self.pos], func, arg)

    def raw_arguments(self, func: str, opening: int) -> str:
        depth = 1
        i = opening + 1
        while i < len(self.text):
            depth += {"(": 1, ")": -1}.get(self.text[i], 0)
            if depth == 0:
                self.pos = i + 1
                return self.text[opening + 1 : i]
            i += 1
        raise self.fail(f"unclosed '(' of {func}(); close it with ')'", opening)

    def any_values(self, inner: str, column0: int) -> tuple[_Literal, ...]:
        values: list[_Literal] = []
        offset = 0
        for item in inner.split(","):
            if not item.strip():
                raise self.fail(
                    "any() needs values separated by commas, e.g. any(200, 429)", column0 + offset
                )
            values.append(_Literal(item.strip(), _duration_ms(item.strip())))
            offset += len(item) + 1
        return tuple(values)

    def literal(self) -> _Literal:
        start = self.pos
        while self.peek() and self.peek() not in _LITERAL_STOP and self.operator_here() is None:
            self.pos += 1
        ch = self.peek()
        if ch in (")", "]"):
            raise self.fail(f"unbalanced {ch!r}; remove it or add its opening pair")
        if ch == "[":
            raise self.fail("a placeholder such as [BODY] must stand on its own; add an operator")
        if ch == "(":
            raise self.fail("unexpected '('; only len(), has(), pat() and any() take parentheses")
        text = self.text[start : self.pos].rstrip()
        self.pos = start + len(text)
        return _Literal(text, _duration_ms(text))
