"""Load YAML into plain data while remembering the line of every value, expanding ${VAR}."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from tenantwatch.config.errors import ConfigIssue

Path_ = tuple[str | int, ...]
_VAR = re.compile(r"\$(\$)|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{([^}]*)\}?")


@dataclass
class LineMap:
    """Line numbers (1-based) of every mapping key and value, by path."""

    lines: dict[Path_, int] = field(default_factory=dict)

    def line_of(self, path: Path_) -> int:
        """Return the line of the deepest known prefix of path (1 when nothing is known)."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return 1


class _Builder:
    def __init__(self, file: str, env: Mapping[str, str] | None) -> None:
        self.file = file
        self.env = env
        self.map = LineMap()
        self.issues: list[ConfigIssue] = []
        self._constructor = yaml.SafeLoader("")
        self._resolver = yaml.resolver.Resolver()

    def issue(self, node: yaml.Node, message: str) -> None:
        self.issues.append(ConfigIssue(self.file, node.start_mark.line + 1, message))

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.map.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    self.issue(
                        key_node, "YAML merge keys ('<<') are not supported; repeat the keys"
                    )
                    continue
                key = self._scalar(key_node, expand=False)
                if not isinstance(key, str | int) or isinstance(key, bool):
                    self.issue(key_node, "mapping keys must be plain strings")
                    continue
                if key in out:
                    self.issue(key_node, f"duplicate key {key!r}; each key may appear once")
                    continue
                self.map.lines[(*path, key)] = key_node.start_mark.line + 1
                out[key] = self.build(value_node, (*path, key))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self._scalar(node, expand=True)

    def _scalar(self, node: yaml.Node, *, expand: bool) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            self.issue(node, "expected a plain value here")
            return None
        value: str = node.value
        if expand and self.env is not None and "$" in value:
            expanded = self._expand(node, value)
            if expanded != value:
                if node.style is None:  # plain scalar: "${PORT}" may become an int
                    tag = self._resolver.resolve(  # type: ignore[no-untyped-call]
                        yaml.ScalarNode, expanded, (True, False)
                    )
                    node = yaml.ScalarNode(tag, expanded, node.start_mark, node.end_mark)
                else:
                    return expanded
        try:
            return self._constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError) as exc:  # ValueError: e.g. an int of 5,000 digits
            shown = value if len(value) <= 40 else value[:40] + "..."
            self.issue(node, f"cannot read value {shown!r}: {exc}")
            return None

    def _expand(self, node: yaml.Node, value: str) -> str:
        def sub(match: re.Match[str]) -> str:
            if match.group(1):
                return "$"
            name, default, bad = match.group(2), match.group(3), match.group(4)
            if name is None:
                if bad is None:
                    return match.group(0)
                self.issue(
                    node,
                    f"malformed variable reference {match.group(0)!r}; write ${{NAME}} or "
                    "${NAME:-default}, or $$ for a literal '$'",
                )
                return match.group(0)
            assert self.env is not None
            if name in self.env:
                return self.env[name]
            if default is not None:
                return default
            self.issue(
                node,
                f"environment variable {name} is not set; set it or write ${{{name}:-default}}",
            )
            return ""

        return _VAR.sub(sub, value)


def load_yaml(
    text: str, file: str, env: Mapping[str, str] | None
) -> tuple[Any, LineMap, list[ConfigIssue]]:
    """Return the data in a YAML document, the line of each value, and the problems found.

    With env, ${VAR} in values is expanded; with None (rule files, whose templates use `$`),
    values are taken as written."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        simple_key = exc.context == "while scanning a simple key" and exc.context_mark
        if simple_key:  # the line where the unfinished key began, as go-yaml reports it
            mark = exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or "invalid YAML"
        hint = ""
        if simple_key and "could not find expected ':'" in problem:
            hint = (
                "; a value that spans lines needs a block scalar ('key: |' then the lines "
                "indented) or quotes"
            )
        elif "mapping values are not allowed" in problem:
            hint = "; quote values that contain ': ' and check the indentation"
        elif "found character '\\t'" in problem:
            hint = "; indent with spaces, not tabs"
        return None, LineMap(), [ConfigIssue(file, line, f"invalid YAML: {problem}{hint}")]
    except yaml.YAMLError as exc:
        return None, LineMap(), [ConfigIssue(file, 1, f"invalid YAML: {exc}")]
    if node is None:
        return {}, LineMap(), []
    builder = _Builder(file, env)
    data = builder.build(node, ())
    return data, builder.map, builder.issues


def issue_at(file: str, lines: LineMap, where: tuple[str | int, ...], message: str) -> ConfigIssue:
    """The problem with the value at where (a path of keys and indexes) in file, placed at
    that value's line, or at its nearest enclosing one."""
    return ConfigIssue(file, lines.line_of(where), message)
