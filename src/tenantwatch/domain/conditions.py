"""Gatus-style check conditions, parsed by hand (nothing is ever eval'd).

    [STATUS] == 200            [RESPONSE_TIME] < 500        [BODY].data.items[0].ok == true
    [BODY] == pat(*healthy*)   len([BODY].items) > 0        [CERTIFICATE_EXPIRATION] > 72h
    [CONNECTED] == true        [DNS_RCODE] == NOERROR       [STATUS] == any(200, 429)
    has([BODY].errors) == false

A condition is `left OP right` with one of == != < <= > >=. Numbers compare as numbers,
anything else as text with == and != only. Durations (500ms, 30s, 72h, 1h30m, 2d) are
milliseconds, the unit of [RESPONSE_TIME] and [CERTIFICATE_EXPIRATION].
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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
_OP = re.compile(r"==|!=|<=|>=|<|>")
_DURATION = re.compile(r"^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNIT_MS = {"ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0, "d": 86_400_000.0}
_PATH_PART = re.compile(r"\.([A-Za-z0-9_\-]+)|\[(\d+)\]")
_MISSING = object()


class ConditionError(ValueError):
    """A condition that cannot be parsed; column is 1-based."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(message)
        self.column = column


@dataclass(frozen=True, slots=True)
class _Operand:
    kind: str  # "placeholder", "len", "has", "literal", "pat", "any"
    text: str
    name: str = ""  # placeholder name
    path: tuple[str | int, ...] = ()
    values: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Condition:
    text: str
    left: _Operand
    op: str
    right: _Operand


@dataclass(frozen=True, slots=True)
class Observation:
    status: int | None = None
    response_time_ms: float | None = None
    body: bytes = b""
    certificate_expiry_ms: float | None = None
    connected: bool | None = None
    dns_rcode: str | None = None
    ip: str | None = None
    value: float | None = None


@dataclass(frozen=True, slots=True)
class ConditionOutcome:
    condition: str
    ok: bool
    detail: str


def _find_operator(text: str) -> tuple[str, int]:
    """The operator outside brackets/parentheses and its index."""
    depth = 0
    found: list[tuple[str, int]] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
            if depth < 0:
                raise ConditionError(f"unbalanced {ch!r}; remove it or add its opening pair", i + 1)
        elif depth == 0:
            m = _OP.match(text, i)
            if m:
                found.append((m.group(), i))
                i = m.end()
                continue
        i += 1
    if depth != 0:
        raise ConditionError("unclosed bracket or parenthesis; close it", len(text))
    if not found:
        raise ConditionError(
            "no operator; compare with one of == != < <= > >=, e.g. [STATUS] == 200", 1
        )
    if len(found) > 1:
        raise ConditionError(
            f"more than one operator ({found[1][0]!r}); a condition compares two things once",
            found[1][1] + 1,
        )
    return found[0]


def _parse_path(rest: str, column: int) -> tuple[str | int, ...]:
    path: list[str | int] = []
    pos = 0
    while pos < len(rest):
        m = _PATH_PART.match(rest, pos)
        if m is None:
            raise ConditionError(
                f"malformed JSON path {rest!r}; write it as .field, .list[0] or [0].field",
                column + pos,
            )
        path.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
        pos = m.end()
    return tuple(path)


def _placeholder(text: str, column: int) -> _Operand:
    end = text.find("]")
    if not text.startswith("[") or end < 0:
        raise ConditionError(f"expected a placeholder such as [BODY], got {text!r}", column)
    name = text[1:end]
    if name not in PLACEHOLDERS:
        known = ", ".join(f"[{p}]" for p in PLACEHOLDERS)
        raise ConditionError(f"unknown placeholder [{name}]; use one of {known}", column)
    rest = text[end + 1 :]
    if rest and name != "BODY":
        raise ConditionError(f"only [BODY] takes a JSON path, not [{name}]", column + end + 1)
    path = _parse_path(rest, column + end + 1)
    return _Operand("placeholder", text, name=name, path=path)


def _function(text: str, column: int) -> _Operand | None:
    m = re.match(r"^([a-z]+)\((.*)\)$", text, re.DOTALL)
    if m is None:
        if re.match(r"^[a-z]+\(", text):
            raise ConditionError(f"unclosed call {text!r}; close it with ')'", column)
        return None
    fn, inner = m.group(1), m.group(2).strip()
    inner_col = column + len(fn) + 1
    if fn in ("len", "has"):
        if not inner.startswith("["):
            raise ConditionError(f"{fn}() takes a placeholder, e.g. {fn}([BODY].items)", inner_col)
        p = _placeholder(inner, inner_col)
        return _Operand(fn, text, name=p.name, path=p.path)
    if fn == "pat":
        if not inner:
            raise ConditionError("pat() needs a pattern, e.g. pat(*healthy*)", inner_col)
        return _Operand("pat", text, values=(inner,))
    if fn == "any":
        values = tuple(v.strip() for v in inner.split(","))
        if not inner or any(not v for v in values):
            raise ConditionError("any() needs values, e.g. any(200, 429)", inner_col)
        return _Operand("any", text, values=values)
    raise ConditionError(f"unknown function {fn}(); use len(), has(), pat() or any()", column)


def _operand(text: str, column: int, side: str) -> _Operand:
    if not text:
        raise ConditionError(f"nothing on the {side} of the operator", column)
    fn = _function(text, column)
    if fn is not None:
        if side == "left" and fn.kind in ("pat", "any"):
            raise ConditionError(f"{fn.kind}() belongs on the right of == or !=", column)
        return fn
    if text.startswith("["):
        return _placeholder(text, column)
    return _Operand("literal", text)


def parse_condition(text: str) -> Condition:
    """Parse one condition. Raise ConditionError (with column) saying how to fix it."""
    if not isinstance(text, str) or not text.strip():
        raise ConditionError("empty condition; write e.g. [STATUS] == 200", 1)
    op, at = _find_operator(text)
    left_raw, right_raw = text[:at], text[at + len(op) :]
    left_col = len(left_raw) - len(left_raw.lstrip()) + 1
    right_col = at + len(op) + len(right_raw) - len(right_raw.lstrip()) + 1
    left = _operand(left_raw.strip(), left_col, "left")
    right = _operand(right_raw.strip(), right_col, "right")
    if right.kind in ("pat", "any") and op not in ("==", "!="):
        raise ConditionError(f"{right.kind}() works with == and != only", right_col)
    return Condition(text=text, left=left, op=op, right=right)


# -- evaluation -----------------------------------------------------------------------------


class _Unresolved(Exception):
    pass


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise _Unresolved("the body is not JSON") from None


def _walk(doc: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        if isinstance(part, int):
            if not isinstance(doc, list) or part >= len(doc):
                return _MISSING
            doc = doc[part]
        else:
            if not isinstance(doc, dict) or part not in doc:
                return _MISSING
            doc = doc[part]
    return doc


def _fact(op: _Operand, obs: Observation) -> Any:
    facts: dict[str, Any] = {
        "STATUS": obs.status,
        "RESPONSE_TIME": obs.response_time_ms,
        "CERTIFICATE_EXPIRATION": obs.certificate_expiry_ms,
        "CONNECTED": obs.connected,
        "DNS_RCODE": obs.dns_rcode,
        "IP": obs.ip,
        "VALUE": obs.value,
    }
    if op.name == "BODY":
        if not op.path:
            return obs.body.decode("utf-8", "replace")
        value = _walk(_json(obs.body), op.path)
        if value is _MISSING:
            raise _Unresolved(f"{op.text} was not found in the body")
        return value
    value = facts[op.name]
    if value is None:
        raise _Unresolved(f"[{op.name}] is not known for this check")
    return value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _resolve(op: _Operand, obs: Observation) -> Any:
    if op.kind == "placeholder":
        return _fact(op, obs)
    if op.kind == "has":
        try:
            _fact(_Operand("placeholder", op.text, name=op.name, path=op.path), obs)
        except _Unresolved:
            return False
        return True
    if op.kind == "len":
        value = _fact(_Operand("placeholder", op.text, name=op.name, path=op.path), obs)
        if op.name == "BODY" and not op.path:
            return len(obs.body)
        if isinstance(value, list | dict | str):
            return len(value)
        return len(_text(value))
    text = op.text
    if _DURATION.fullmatch(text) and not text.isdigit():
        return sum(float(n) * _UNIT_MS[u] for n, u in _DURATION_PART.findall(text))
    return text


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _glob(pattern: str, text: str) -> bool:
    regex = "^" + ".*".join(re.escape(p) for p in pattern.split("*")) + "$"
    return re.match(regex, text, re.DOTALL) is not None


def _compare(left: Any, op: str, right: Any) -> bool | None:
    a, b = _number(left), _number(right)
    if a is not None and b is not None:
        return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
    if op == "==":
        return _text(left) == _text(right)
    if op == "!=":
        return _text(left) != _text(right)
    return None


def _shown(value: Any) -> str:
    text = _text(value)
    return text if len(text) <= 80 else text[:77] + "..."


def evaluate(condition: Condition, obs: Observation) -> ConditionOutcome:
    """Judge one condition on what a probe saw. Never raises."""
    c = condition
    try:
        left = _resolve(c.left, obs)
        if c.right.kind in ("pat", "any"):
            text = _text(left)
            if c.right.kind == "pat":
                hit = _glob(c.right.values[0], text)
            else:
                hit = any(_compare(left, "==", v) for v in c.right.values)
            ok = hit if c.op == "==" else not hit
            return ConditionOutcome(
                c.text, ok, f"{c.left.text} ({_shown(left)}) {c.op} {c.right.text}"
            )
        right = _resolve(c.right, obs)
        verdict = _compare(left, c.op, right)
    except _Unresolved as exc:
        return ConditionOutcome(c.text, False, str(exc))
    except Exception as exc:  # a condition never breaks a run
        return ConditionOutcome(c.text, False, f"cannot evaluate: {exc}")
    if verdict is None:
        return ConditionOutcome(
            c.text,
            False,
            f"{c.left.text} ({_shown(left)}) {c.op} {_shown(right)}: {c.op} needs numbers on "
            "both sides",
        )
    shown_right = c.right.text if c.right.kind == "literal" else f"{c.right.text} ({_shown(right)})"
    return ConditionOutcome(c.text, verdict, f"{c.left.text} ({_shown(left)}) {c.op} {shown_right}")


def evaluate_all(
    conditions: Sequence[Condition], obs: Observation
) -> tuple[bool, list[ConditionOutcome]]:
    outcomes = [evaluate(c, obs) for c in conditions]
    return all(o.ok for o in outcomes), outcomes
