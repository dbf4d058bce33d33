"""Metadata lines of an exposition: `# HELP`, `# TYPE`, `# UNIT` and OpenMetrics' `# EOF`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tenantwatch.metrics.exposition_scan import (
    ESCAPES,
    NAME_RE,
    QSTR_RE,
    BadLine,
    show,
    unescape,
    ws,
)

_HELP_UNESCAPE_RE = re.compile(r"\\([\\n])")
_TEXT_TYPES = {
    "counter": "counter",
    "gauge": "gauge",
    "histogram": "histogram",
    "summary": "summary",
    "untyped": "unknown",
}
_OM_TYPES = frozenset(
    ["counter", "gauge", "histogram", "gaugehistogram", "summary", "info", "stateset", "unknown"]
)


@dataclass(frozen=True, slots=True)
class MetricMetadata:
    type: str = "unknown"
    help: str = ""
    unit: str = ""


def metric_types(data: str, *, openmetrics: bool | None = None) -> dict[str, str]:
    """Family name -> type from `# TYPE` lines (text `untyped` reads as `unknown`).

    `openmetrics=None` reads the data as OpenMetrics when it ends with `# EOF`.
    """
    return {
        name: meta.type for name, meta in metric_metadata(data, openmetrics=openmetrics).items()
    }


def metric_metadata(data: str, *, openmetrics: bool | None = None) -> dict[str, MetricMetadata]:
    """Family name -> type, help and unit from `# TYPE`, `# HELP` and `# UNIT` lines.

    Malformed metadata lines are skipped; `parse_text` reports them.
    """
    om = data.rstrip("\n").endswith("# EOF") if openmetrics is None else openmetrics
    found: dict[str, dict[str, str]] = {}
    for line in data.split("\n"):
        stripped = line if om else line.lstrip(" \t")
        if not stripped.startswith("#"):
            continue
        try:
            meta = parse_meta_line(stripped, om)
        except BadLine:
            continue
        if meta is not None and meta[0] != "EOF":
            kind, name, text = meta
            found.setdefault(name, {})[kind] = text
    return {name: metadata_of(entry) for name, entry in found.items()}


def metadata_of(entry: dict[str, str]) -> MetricMetadata:
    return MetricMetadata(
        entry.get("TYPE", "unknown"), entry.get("HELP", ""), entry.get("UNIT", "")
    )


def parse_meta_line(line: str, om: bool) -> tuple[str, str, str] | None:
    """(kind, family name, text) of a metadata line; None for a plain comment."""
    n = len(line)
    if om:
        if line.startswith("# EOF"):
            if line != "# EOF":
                raise BadLine("unexpected data after # EOF: it must be the last line")
            return ("EOF", "", "")
        if not line.startswith("# "):
            raise BadLine("OpenMetrics needs one space after '#'")
        i = 2
    else:
        if n == 1 or line[1] not in " \t":
            return None
        i = ws(line, 1)
    kind = line[i : i + 4]
    if kind not in ("HELP", "TYPE", "UNIT") or (kind == "UNIT" and not om):
        if om:
            raise BadLine(
                f"unexpected comment {line[:30]!r}: OpenMetrics allows only # HELP, # TYPE, "
                "# UNIT and # EOF lines"
            )
        return None
    if line[i + 4 : i + 5] not in (" ", "\t") or (om and line[i + 4] != " "):
        if om:
            raise BadLine(f"expected one space after {kind}")
        return None
    i = i + 5 if om else ws(line, i + 4)
    if line[i : i + 1] == '"':
        match = QSTR_RE.match(line, i)
        name = unescape(line[i + 1 : match.end() - 1]) if match else None
    else:
        match = NAME_RE.match(line, i)
        name = match.group() if match else None
    if match is None or name is None:
        raise BadLine(f"expected a metric name after {kind}, got {show(line, i)}")
    i = match.end()
    if om:
        if line[i : i + 1] != " ":
            raise BadLine(
                f"expected a space and the {kind} text after {name!r} (empty text needs the space too)"
            )
        text = line[i + 1 :]
    else:
        text = line[i + 1 :]
    if kind == "TYPE":
        if om:
            if text not in _OM_TYPES:
                raise BadLine(
                    f"invalid metric type {text!r}: use one of {', '.join(sorted(_OM_TYPES))}"
                )
        elif text in _TEXT_TYPES:
            text = _TEXT_TYPES[text]
        else:
            raise BadLine(
                f"invalid metric type {text!r}: use counter, gauge, histogram, summary or untyped"
            )
    elif kind == "HELP":
        if om:
            text = unescape(text)
        elif "\\" in text:
            text = _HELP_UNESCAPE_RE.sub(lambda m: ESCAPES[m.group(1)], text)
    elif text and not (name.endswith("_" + text)):
        raise BadLine(
            f"unit {text!r} is not a suffix of metric {name!r}: the name must end in _{text}"
        )
    return (kind, name, text)
