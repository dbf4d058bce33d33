"""Judging parsed conditions (domain/conditions.py) on what a probe saw, never raising.

Each outcome's detail shows what was compared, as far as that is safe to show: a whole
[BODY] as its size and a short SHA-256, a JSON path's value when it is a short scalar
(else its kind and size), and nothing of the payload when the observation says it is
hidden (the value of a database check made through the API). See docs/health-checks.md.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from tenantwatch import jsonio
from tenantwatch.domain.conditions import (
    _TIME_PLACEHOLDERS,
    Condition,
    _AnyOf,
    _Call,
    _Literal,
    _Operand,
    _Pattern,
    _Placeholder,
    _Right,
)

_SHOWN_MAX = 80  # characters of a fact shown in a detail
_PATH_VALUE_MAX = 64  # a JSON path's value is shown up to this many characters
_PAYLOAD = ("BODY", "VALUE")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


@dataclass(frozen=True, slots=True)
class Observation:
    """What a probe saw; None means the probe has no such fact."""

    status: int | None = None
    response_time_ms: float | None = None
    body: bytes = b""
    certificate_expiry_ms: float | None = None
    connected: bool | None = None
    dns_rcode: str | None = None
    ip: str | None = None
    value: float | None = None
    # the body and value take part in the verdict but never show in a detail
    payload_hidden: bool = False


@dataclass(frozen=True, slots=True)
class ConditionOutcome:
    """One condition's verdict; detail is the resolved form, e.g. "[STATUS] (503) == 200"."""

    condition: str
    ok: bool
    detail: str


# -- evaluation --------------------------------------------------------------------------------


class _Unresolved(Exception):
    """A side of a condition has no value; the message is the outcome's detail."""


class _Facts:
    """An observation with its body parsed as JSON at most once."""

    __slots__ = ("_doc", "_parsed", "obs")

    def __init__(self, obs: Observation) -> None:
        self.obs = obs
        self._doc: object = None
        self._parsed: bool | None = None

    def document(self, asked: str) -> object:
        if self._parsed is None:
            try:
                self._doc = jsonio.loads(self.obs.body)
                self._parsed = True
            except (ValueError, RecursionError):
                self._parsed = False
        if not self._parsed:
            raise _Unresolved(f"the body is not JSON, so {asked} cannot be read")
        return self._doc

    def fact(self, name: str) -> object:
        o = self.obs
        known: dict[str, object] = {
            "STATUS": o.status,
            "RESPONSE_TIME": o.response_time_ms,
            "CERTIFICATE_EXPIRATION": o.certificate_expiry_ms,
            "CONNECTED": o.connected,
            "DNS_RCODE": o.dns_rcode,
            "IP": o.ip,
            "VALUE": o.value,
        }
        value = known.get(name)
        if value is None:
            raise _Unresolved(f"[{name}] is not known for this check")
        return value


_MISSING = object()


def _walk(doc: object, path: tuple[str | int, ...]) -> object:
    for part in path:
        if isinstance(doc, list) and isinstance(part, int) and part < len(doc):
            doc = doc[part]
            continue
        if not (isinstance(doc, dict) and isinstance(part, str) and part in doc):
            return _MISSING
        doc = doc[part]
    return doc


def _placeholder_value(p: _Placeholder, facts: _Facts) -> object:
    if p.name != "BODY":
        return facts.fact(p.name)
    if not p.path:
        return facts.obs.body.decode("utf-8", "replace")
    value = _walk(facts.document(p.text), p.path)
    if value is _MISSING:
        raise _Unresolved(f"{p.text} was not found in the body")
    return value


def _call_value(c: _Call, facts: _Facts) -> object:
    if c.func == "has":
        try:
            _placeholder_value(c.arg, facts)
        except _Unresolved:
            return False
        return True
    if c.arg.name == "BODY" and not c.arg.path:
        return len(facts.obs.body)
    value = _placeholder_value(c.arg, facts)
    if value is None:
        return 0
    if isinstance(value, list | dict | str):
        return len(value)
    return len(_text(value))


def _is_time(operand: _Right) -> bool:
    return isinstance(operand, _Placeholder) and operand.name in _TIME_PLACEHOLDERS


def _value(operand: _Operand, facts: _Facts, other: _Operand | _Right) -> object:
    if isinstance(operand, _Placeholder):
        return _placeholder_value(operand, facts)
    if isinstance(operand, _Call):
        return _call_value(operand, facts)
    return _literal_value(operand, other)


def _literal_value(literal: _Literal, other: _Operand | _Right) -> object:
    if literal.duration_ms is not None and _is_time(other):
        return literal.duration_ms
    return literal.text


def _text(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    if isinstance(value, list | dict):
        return jsonio.dumps(value, compact=True, ascii_only=False)
    return str(value)


def _number(value: object) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return None if math.isnan(value) else Decimal(repr(value))
    if isinstance(value, str) and _NUMBER.fullmatch(value):
        return Decimal(value)
    return None


def _compare(left: object, op: str, right: object) -> bool | None:
    """The verdict, or None when an ordering is asked of something that is not a number."""
    a, b = _number(left), _number(right)
    if a is not None and b is not None:
        return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
    if op in ("==", "!="):
        return (_text(left) == _text(right)) == (op == "==")
    return None


def _glob(pattern: str, text: str) -> bool:
    """Whole-string match where '*' stands for any run of characters (linear time)."""
    p = t = 0
    star, mark = -1, 0
    while t < len(text):
        if p < len(pattern) and pattern[p] != "*" and pattern[p] == text[t]:
            p, t = p + 1, t + 1
        elif p < len(pattern) and pattern[p] == "*":
            star, mark, p = p, t, p + 1
        elif star >= 0:
            p, mark = star + 1, mark + 1
            t = mark
        else:
            return False
    return all(ch == "*" for ch in pattern[p:])


def _body_summary(body: bytes) -> str:
    digest = hashlib.sha256(body).hexdigest()[:12]
    return f"{len(body)} bytes, sha256 {digest}"


def _path_summary(value: object) -> str:
    """A JSON path's value if short and scalar, else its kind and size."""
    if isinstance(value, list):
        return f"array of {len(value)} item{'s' if len(value) != 1 else ''}"
    if isinstance(value, dict):
        return f"object with {len(value)} key{'s' if len(value) != 1 else ''}"
    text = _text(value)
    if len(text) > _PATH_VALUE_MAX:
        return f"{len(text)} characters"
    return text


def _shown(operand: _Right, value: object, facts: _Facts) -> str:
    if isinstance(operand, _Literal | _Pattern | _AnyOf):
        return operand.text
    if isinstance(operand, _Placeholder) and operand.name in _PAYLOAD:
        if facts.obs.payload_hidden:
            return f"{operand.text} (not shown)"
        if operand.name == "BODY":
            summary = _path_summary(value) if operand.path else _body_summary(facts.obs.body)
            return f"{operand.text} ({summary})"
    text = _text(value)
    if len(text) > _SHOWN_MAX:
        text = text[: _SHOWN_MAX - 3] + "..."
    return f"{operand.text} ({text})"


def _judge(c: Condition, facts: _Facts) -> ConditionOutcome:
    left = _value(c.left, facts, c.right)
    if isinstance(c.right, _Pattern):
        hit = _glob(c.right.pattern, _text(left))
    elif isinstance(c.right, _AnyOf):
        hit = any(_compare(left, "==", _literal_value(v, c.left)) for v in c.right.values)
    else:
        right = _value(c.right, facts, c.left)
        detail = f"{_shown(c.left, left, facts)} {c.op} {_shown(c.right, right, facts)}"
        verdict = _compare(left, c.op, right)
        if verdict is None:
            detail += f": {c.op} needs numbers on both sides; use == or != to compare text"
        return ConditionOutcome(c.text, bool(verdict), detail)
    ok = hit if c.op == "==" else not hit
    return ConditionOutcome(c.text, ok, f"{_shown(c.left, left, facts)} {c.op} {c.right.text}")


def _evaluate(condition: Condition, facts: _Facts) -> ConditionOutcome:
    try:
        return _judge(condition, facts)
    except _Unresolved as exc:
        return ConditionOutcome(condition.text, False, str(exc))
    except Exception as exc:  # a condition must never break a run
        return ConditionOutcome(
            condition.text, False, f"{condition.text} could not be evaluated ({exc!r})"
        )


def evaluate(condition: Condition, obs: Observation) -> ConditionOutcome:
    """Judge one condition on what a probe saw. Never raises."""
    return _evaluate(condition, _Facts(obs))


def evaluate_all(
    conditions: Sequence[Condition], obs: Observation
) -> tuple[bool, list[ConditionOutcome]]:
    """Judge every condition (the body is parsed once); ok when all hold, True for none."""
    facts = _Facts(obs)
    outcomes = [_evaluate(c, facts) for c in conditions]
    return all(o.ok for o in outcomes), outcomes
