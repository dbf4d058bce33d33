"""Go's regular expressions, as Prometheus and Alertmanager use them: RE2 syntax and
semantics, matching in time linear in the text whatever the pattern (no backtracking, so
`(a+)+$` cannot stall a request), always anchored at both ends."""

from __future__ import annotations

import re
from typing import Any, Protocol

import re2

# a label matcher's regex never needs more; RE2 refuses a pattern whose program exceeds it
MAX_PROGRAM_MEMORY = 8 << 20


class RegexError(ValueError):
    """A pattern RE2 (Go's regexp) cannot compile; the message says why."""


class GoMatch(Protocol):
    def group(self, index: int | str = 0, /) -> str | None: ...


def _options(dot_nl: bool) -> Any:
    options = re2.Options()
    options.log_errors = False
    options.max_mem = MAX_PROGRAM_MEMORY
    options.dot_nl = dot_nl
    return options


class GoRegex:
    """A compiled, fully anchored pattern: `^(?s:pattern)$` as Prometheus compiles label
    matchers (dot_nl), or `^(?:pattern)$` as Alertmanager does."""

    __slots__ = ("_compiled", "dot_nl", "pattern")

    def __init__(self, pattern: str, *, dot_nl: bool) -> None:
        self.pattern = pattern
        self.dot_nl = dot_nl
        options = _options(dot_nl)
        try:
            self._compiled = re2.compile(f"^(?:{pattern})$", options)
        except re2.error:
            try:  # word the error about the pattern as given, not the anchored one
                re2.compile(pattern, options)
            except re2.error as plain:
                exc = plain
            reason = exc.args[0] if exc.args else exc
            if isinstance(reason, bytes):
                reason = reason.decode("utf-8", "replace")
            raise RegexError(f"error parsing regexp: {reason}") from None

    def fullmatch(self, text: str) -> GoMatch | None:
        """The match of the whole text, or None."""
        found: GoMatch | None = self._compiled.search(text)
        return found

    def matches(self, text: str) -> bool:
        return self._compiled.search(text) is not None

    # the same pattern compiled twice is the same regex (a reloaded config's rules compare
    # equal to the running ones)
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GoRegex):
            return NotImplemented
        return (self.pattern, self.dot_nl) == (other.pattern, other.dot_nl)

    def __hash__(self) -> int:
        return hash((self.pattern, self.dot_nl))


def expand(template: str, match: GoMatch) -> str:
    """Go's Regexp.Expand: $1, ${1}, $name, ${name}, $$."""
    out = []
    i = 0
    n = len(template)
    while i < n:
        c = template[i]
        if c != "$" or i + 1 >= n:
            out.append(c)
            i += 1
            continue
        nxt = template[i + 1]
        if nxt == "$":
            out.append("$")
            i += 2
            continue
        if nxt == "{":
            end = template.find("}", i + 2)
            if end < 0:
                out.append(c)
                i += 1
                continue
            name = template[i + 2 : end]
            i = end + 1
            if not re.fullmatch(r"[A-Za-z0-9_]+", name):
                out.append(template[i - len(name) - 3 : i])
                continue
        else:
            m = re.match(r"[A-Za-z0-9_]+", template[i + 1 :])
            if not m:
                out.append(c)
                i += 1
                continue
            name = m.group(0)
            i += 1 + len(name)
        out.append(_group(match, name))
    return "".join(out)


def _group(match: GoMatch, name: str) -> str:
    try:
        value = match.group(int(name)) if name.isdigit() else match.group(name)
    except IndexError:
        return ""
    return value or ""
