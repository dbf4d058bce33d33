"""Values as Go's text/template prints and compares them, and its built-in functions
(`eq`, `lt`, `index`, `len`, `slice`, `print`, `html`, `js`, `urlquery`, ...), for the
template engine in gotext/template.py."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

from tenantwatch.gotext.floats import format_g

NO_VALUE = "<no value>"


class TemplateError(ValueError):
    """A template that cannot be parsed or executed; `pos` is the offset of a parse error."""

    def __init__(self, message: str, pos: int | None = None) -> None:
        super().__init__(message)
        self.pos = pos


class _Missing:
    """Go's invalid reflect.Value: a missing map key (prints <no value>)."""

    def __repr__(self) -> str:
        return NO_VALUE


MISSING = _Missing()


# -- values as Go prints them -----------------------------------------------------------------


def go_str(value: Any) -> str:
    """A value as Go's fmt %v prints it."""
    if value is MISSING:
        return NO_VALUE
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format_g(value)
    if isinstance(value, Mapping):
        inner = " ".join(f"{go_str(k)}:{go_str(v)}" for k, v in sorted(value.items()))
        return f"map[{inner}]"
    if isinstance(value, list | tuple):
        return "[" + " ".join(go_str(v) for v in value) + "]"
    return str(value)


def truthy(value: Any) -> bool:
    """Go's template truth: false, 0, nil, empty string/list/map and missing are false."""
    if value is MISSING or value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str | list | tuple | dict | Mapping):
        return len(value) > 0
    return True


# -- built-in functions ----------------------------------------------------------------------

Funcs = Mapping[str, Callable[..., Any]]


def _builtin_eq(a: Any, *others: Any) -> bool:
    return any(_comparable(a) == _comparable(b) for b in others)


def _comparable(v: Any) -> Any:
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float):
        return float(v)
    return v


def _ordered(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def compare(a: Any, b: Any) -> bool:
        a, b = _comparable(a), _comparable(b)
        if type(a) is not type(b):
            raise TemplateError("incompatible types for comparison")
        return op(a, b)

    return compare


def _index(item: Any, *keys: Any) -> Any:
    for key in keys:
        if isinstance(item, Mapping):
            item = item.get(key, "")
        elif isinstance(item, list | tuple | str):
            item = item[int(key)]
        else:
            raise TemplateError(f"can't index item of type {type(item).__name__}")
    return item


def _sprint(*args: Any) -> str:
    """Go's fmt.Sprint: a space between operands when neither is a string."""
    out: list[str] = []
    for i, a in enumerate(args):
        if i and not isinstance(a, str) and not isinstance(args[i - 1], str):
            out.append(" ")
        out.append(go_str(a))
    return "".join(out)


def _html_escape(*args: Any) -> str:
    text = _sprint(*args) if len(args) != 1 or not isinstance(args[0], str) else args[0]
    for c, esc in (("&", "&amp;"), ("'", "&#39;"), ('"', "&#34;"), ("<", "&lt;"), (">", "&gt;")):
        text = text.replace(c, esc)
    return text.replace("\0", "\ufffd")


class SafeHTML(str):
    """A value an HTML template inserts as it is (Alertmanager's safeHtml)."""


def html_template_escape(text: str) -> str:
    """What Go's html/template does to a value in HTML text: `&'"<>+` as entities, NUL
    as U+FFFD. (html/template also escapes by context inside attributes, URLs and
    scripts; this is its text-context escaper, where notification emails put values.)"""
    return _html_escape(text).replace("+", "&#43;")


def _js_escape(*args: Any) -> str:
    text = _sprint(*args) if len(args) != 1 or not isinstance(args[0], str) else args[0]
    out = []
    for c in text:
        if c in "\\'\"":
            out.append("\\" + c)
        elif c in "<>&=" or ord(c) < 0x20:
            out.append(f"\\u{ord(c):04X}")
        else:
            out.append(c)
    return "".join(out)


def _urlquery(*args: Any) -> str:
    text = _sprint(*args) if len(args) != 1 or not isinstance(args[0], str) else args[0]
    return urllib.parse.quote_plus(text, safe="-_.~")


def _len(value: Any) -> int:
    if isinstance(value, str | list | tuple | Mapping):
        return len(value)
    raise TemplateError(f"len of type {go_type(value)}")


def _slice(item: Any, *indexes: int) -> Any:
    if not isinstance(item, str | list | tuple):
        raise TemplateError(f"can't slice item of type {go_type(item)}")
    if len(indexes) > 2:
        raise TemplateError("too many slice indexes; give at most two")
    start = int(indexes[0]) if indexes else 0
    end = int(indexes[1]) if len(indexes) > 1 else len(item)
    if not 0 <= start <= end <= len(item):
        raise TemplateError(f"slice index out of range: {start}:{end} of {len(item)}")
    return item[start:end]


def go_type(value: Any) -> str:
    if value is None or value is MISSING:
        return "<nil>"
    named = getattr(type(value), "go_name", None)  # e.g. template.Data
    if isinstance(named, str):
        return named
    return {bool: "bool", int: "int", float: "float64", str: "string"}.get(
        type(value), type(value).__name__
    )


BUILTINS: dict[str, Callable[..., Any]] = {
    "print": _sprint,
    "println": lambda *a: " ".join(go_str(v) for v in a) + "\n",
    "html": _html_escape,
    "js": _js_escape,
    "urlquery": _urlquery,
    "slice": _slice,
    "eq": _builtin_eq,
    "ne": lambda a, b: not _builtin_eq(a, b),
    "lt": _ordered(lambda a, b: a < b),
    "le": _ordered(lambda a, b: a <= b),
    "gt": _ordered(lambda a, b: a > b),
    "ge": _ordered(lambda a, b: a >= b),
    "not": lambda v: not truthy(v),
    "len": _len,
    "index": _index,
}
