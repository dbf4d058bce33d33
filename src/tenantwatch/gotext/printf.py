"""Go's fmt.Sprintf for templates' printf: the common verbs with Go's flags, widths,
precisions and its %!verb(type=value) complaints."""

from __future__ import annotations

import math
import re
from typing import Any

from tenantwatch.gotext.floats import format_g
from tenantwatch.gotext.template_funcs import go_str

_VERB = re.compile(r"%([-+# 0]*)(\d+|\*)?(?:\.(\d+|\*)?)?([a-zA-Z%])")


def _pad(text: str, flags: str, width: int | None) -> str:
    if width is None or len(text) >= width:
        return text
    if "-" in flags:
        return text.ljust(width)
    if "0" in flags and text[:1] in "+-0123456789":
        sign = text[0] if text[0] in "+-" else ""
        return sign + text[len(sign) :].rjust(width - len(sign), "0")
    return text.rjust(width)


def _number(verb: str, flags: str, prec: str | None, value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if verb == "d":
        if isinstance(value, float):
            return None
        return ("+" if "+" in flags and value >= 0 else "") + str(value)
    v = float(value)
    if math.isnan(v) or math.isinf(v):
        return "NaN" if math.isnan(v) else ("+Inf" if v > 0 else "-Inf")
    spec = ("+" if "+" in flags else "") + (f".{prec}" if prec is not None else "")
    if verb in "fF":
        return format(v, spec + ("f" if prec is not None else ".6f"))
    if verb in "eE":
        return format(v, spec + ("e" if prec is not None else ".6e")).replace(
            "e", verb if verb == "E" else "e"
        )
    if verb in "gG":
        text = format(v, spec + "g") if prec is not None else format_g(v)
        return text.upper() if verb == "G" else text
    return None


def _one(verb: str, flags: str, prec: str | None, value: Any) -> str:
    if verb in "dfFeEgG":
        out = _number(verb, flags, prec, value)
        if out is not None:
            return out
        return f"%!{verb}({_type(value)}={go_str(value)})"
    if verb == "s":
        text = go_str(value)
        return text[: int(prec)] if prec is not None else text
    if verb == "v":
        return go_str(value)
    if verb == "q":
        text = go_str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{text}"'
    if verb in "xX":
        if isinstance(value, int) and not isinstance(value, bool):
            text = format(value, "x")
        else:
            text = go_str(value).encode().hex()
        return text.upper() if verb == "X" else text
    if verb == "t" and isinstance(value, bool):
        return "true" if value else "false"
    return f"%!{verb}({_type(value)}={go_str(value)})"


def _type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    return "<nil>" if value is None else type(value).__name__


def printf(fmt: str, *args: Any) -> str:
    """Go's fmt.Sprintf for the common verbs (%s %v %d %f %e %g %q %x %t %%)."""
    out = []
    pos = 0
    i = 0
    for m in _VERB.finditer(fmt):
        out.append(fmt[pos : m.start()])
        pos = m.end()
        flags, width, prec, verb = m.group(1), m.group(2), m.group(3), m.group(4)
        if verb == "%":
            out.append("%")
            continue
        if width == "*":
            width = str(args[i]) if i < len(args) else None
            i += 1
        if prec == "*":
            prec = str(args[i]) if i < len(args) else None
            i += 1
        if "." in m.group(0) and prec is None:
            prec = "0"
        if i >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        text = _one(verb, flags, prec, args[i])
        i += 1
        out.append(_pad(text, flags, int(width) if width else None))
    out.append(fmt[pos:])
    if i < len(args):
        extra = ", ".join(f"{_type(a)}={go_str(a)}" for a in args[i:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)
