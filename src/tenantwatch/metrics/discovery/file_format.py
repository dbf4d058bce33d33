"""Prometheus' file_sd target files read into target groups (pure): a YAML or JSON list of
`{targets: [host:port, ...], labels: {name: value}}`, with `__meta_filepath` added."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from tenantwatch import jsonio
from tenantwatch.metrics.target_groups import TargetGroup
from tenantwatch.types import Labels, is_label_name

FILEPATH_LABEL = "__meta_filepath"


class TargetFileError(ValueError):
    """A target file Prometheus would refuse; `line` is where (1-based, 0 if unknown)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def parse_target_file(text: str, path: str) -> list[TargetGroup]:
    """The groups in a target file, sourced `path:index` as Prometheus names them. Raise
    TargetFileError with the line and the fix when the file is not a list of groups."""
    if path.lower().endswith(".json"):
        try:
            data = jsonio.loads(text)
        except ValueError as exc:
            raise TargetFileError(getattr(exc, "lineno", 0), f"not valid JSON: {exc}") from None
    else:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 0
            reason = getattr(exc, "problem", None) or str(exc)
            raise TargetFileError(line, f"not valid YAML: {reason}") from None
    return groups_from(data, path, item_lines(text), {FILEPATH_LABEL: path})


def item_lines(text: str) -> list[int]:
    """The line of each item of a top-level list, as far as YAML can tell (JSON is YAML
    here; a file it cannot compose gives no lines)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return []
    if not isinstance(node, yaml.SequenceNode):
        return []
    return [item.start_mark.line + 1 for item in node.value]


def groups_from(
    data: Any, origin: str, lines: list[int], meta: Mapping[str, str]
) -> list[TargetGroup]:
    """Groups from parsed content (sourced `origin:index`, `meta` added to each group's
    labels). Raise TargetFileError when it has the wrong shape."""
    if data is None:
        return []
    if not isinstance(data, list):
        raise TargetFileError(
            1, "expected a list of target groups, e.g. '- targets: [\"app:9100\"]'"
        )
    groups = []
    for index, item in enumerate(data):
        line = lines[index] if index < len(lines) else 0
        groups.append(_group(item, f"{origin}:{index}", line, meta))
    return groups


def _group(item: Any, source: str, line: int, meta: Mapping[str, str]) -> TargetGroup:
    if not isinstance(item, dict):
        raise TargetFileError(line, "a target group must be a mapping with 'targets' and 'labels'")
    unknown = sorted(str(key) for key in item if key not in ("targets", "labels"))
    if unknown:
        raise TargetFileError(
            line, f"unknown field {unknown[0]!r} in a target group; only 'targets' and 'labels'"
        )
    targets = item.get("targets") or []
    if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
        raise TargetFileError(line, "'targets' must be a list of strings such as 'app:9100'")
    labels = item.get("labels") or {}
    if not isinstance(labels, dict):
        raise TargetFileError(line, "'labels' must be a mapping of label names to strings")
    pairs: dict[str, str] = {}
    for name, value in labels.items():
        if not isinstance(name, str) or not is_label_name(name):
            raise TargetFileError(line, f"{str(name)!r} is not a valid label name")
        if not isinstance(value, str):
            raise TargetFileError(line, f"label {name!r}: the value must be a string (quote it)")
        pairs[name] = value
    pairs.update(meta)
    return TargetGroup(
        source,
        tuple((("__address__", target),) for target in targets),
        _sorted(pairs),
    )


def _sorted(pairs: dict[str, str]) -> Labels:
    return tuple(sorted(pairs.items()))
