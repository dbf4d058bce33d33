"""A subset of Go's text/template, enough for Prometheus alert labels and annotations.

Supported: text and actions with trim markers (`{{-`, `-}}`), comments, pipelines
(`$value | humanize`, `printf "%.2f" $value`), variables (`$x := ...`, `$x = ...`), field
access on maps (`$labels.tenant`, `.Labels.job`), parenthesised pipelines, string, raw
string, number, bool and nil literals, and `if` / `else if` / `else` / `with` / `range`
(over lists and maps, sorted by key, with `$k, $v :=`) ... `end`. Functions come from the
caller (see rules.template_funcs and alertmanager.templates); `and`, `or`, `not`, `len`, `index`, `eq`, `ne`, `lt`,
`le`, `gt`, `ge` are built in, as in Go.

Output follows Go with Prometheus' option missingkey=zero: a missing label reads as "",
and floats print as `%v` does.
Nothing is evaluated as Python. Parse errors raise TemplateError naming the position.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tenantwatch.gotext.template_funcs import (
    BUILTINS,
    MISSING,
    NO_VALUE,
    Funcs,
    SafeHTML,
    TemplateError,
    go_str,
    go_type,
    html_template_escape,
    truthy,
)
from tenantwatch.gotext.template_parse import Arg, Command, Node, Pipeline, parse

# what callers import from here though it is defined in template_funcs or template_parse
__all__ = [
    "MISSING",
    "NO_VALUE",
    "SafeHTML",
    "TemplateError",
    "go_str",
    "html_template_escape",
    "parse",
    "truthy",
]


# -- execution --------------------------------------------------------------------------------


class _Scope:
    def __init__(self, variables: dict[str, Any]) -> None:
        self.frames = [variables]

    def get(self, name: str) -> Any:
        for frame in reversed(self.frames):
            if name in frame:
                return frame[name]
        raise TemplateError(f"undefined variable: {name}")

    def declare(self, name: str, value: Any) -> None:
        self.frames[-1][name] = value

    def assign(self, name: str, value: Any) -> None:
        for frame in reversed(self.frames):
            if name in frame:
                frame[name] = value
                return
        raise TemplateError(f"undefined variable: {name}")


def _arity(method: Callable[..., Any]) -> int:
    """How many arguments a Go-style method takes besides its receiver (-1: any number)."""
    code = getattr(method, "__code__", None)
    if code is None:
        return 0
    if code.co_flags & 0x04:  # *args
        return -1
    defaults = len(getattr(method, "__defaults__", None) or ())
    return int(code.co_argcount) - 1 - defaults


def go_method(value: Any, name: str) -> Callable[..., Any] | None:
    """The Go method `name` of a value: an upper-case Python method on its class."""
    if not name[:1].isupper():
        return None
    method = getattr(type(value), name, None)
    return method if callable(method) and not isinstance(method, type) else None


def _field(value: Any, path: Sequence[str]) -> Any:
    for name in path:
        if value is MISSING:
            return MISSING
        method = go_method(value, name)
        if method is not None:
            want = _arity(method)
            if want > 0:
                raise TemplateError(f"wrong number of args for {name}: want {want} got 0")
            value = method(value)  # a Go method without arguments (.Alerts.Firing)
            continue
        fields = getattr(type(value), "go_fields", None)
        if fields is not None:  # a Go struct: unknown fields are errors, as in Go
            if name not in fields:
                raise TemplateError(f"can't evaluate field {name} in type {go_type(value)}")
            value = getattr(value, name)
        elif isinstance(value, Mapping):
            value = value.get(name, "")  # both run templates with missingkey=zero
        elif value is None:
            raise TemplateError(f"nil pointer evaluating .{name}")
        else:
            raise TemplateError(f"can't evaluate field {name} in type {go_type(value)}")
    return value


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class _Exec:
    def __init__(
        self,
        funcs: Funcs,
        dot: Any,
        variables: Mapping[str, Any],
        templates: Mapping[str, Sequence[Node]] | None = None,
        depth: int = 0,
        escape: Callable[[str], str] | None = None,
    ) -> None:
        self.funcs = {**BUILTINS, **funcs}
        self.scope = _Scope({"$": dot, **variables})
        self.templates = templates or {}
        self.depth = depth
        self.escape = escape

    def run(self, nodes: Sequence[Node], dot: Any, out: list[str]) -> None:
        for node in nodes:
            kind = node.kind
            if kind == "text":
                out.append(node.text)
            elif kind == "action":
                assert node.pipe is not None
                value = self.pipeline(node.pipe, dot)
                if not node.pipe.declare:
                    text = go_str(value)
                    if self.escape is not None and not isinstance(value, SafeHTML):
                        text = self.escape(text)
                    out.append(text)
            elif kind in ("if", "with"):
                assert node.pipe is not None
                self.scope.frames.append({})
                try:
                    value = self.pipeline(node.pipe, dot)
                    if truthy(value):
                        self.run(node.body, value if kind == "with" else dot, out)
                    else:
                        self.run(node.orelse, dot, out)
                finally:
                    self.scope.frames.pop()
            elif kind == "range":
                self._range(node, dot, out)
            elif kind == "template":
                self._template(node, dot, out)
            elif kind == "break":
                raise _Break
            elif kind == "continue":
                raise _Continue

    def _template(self, node: Node, dot: Any, out: list[str]) -> None:
        body = self.templates.get(node.text)
        if body is None:
            raise TemplateError(f'no such template "{node.text}"')
        if self.depth >= 100:
            raise TemplateError(f'template "{node.text}" calls itself too deeply (100 levels)')
        value = self.pipeline(node.pipe, dot) if node.pipe is not None else None
        inner = _Exec({}, value, {}, self.templates, self.depth + 1, self.escape)
        inner.funcs = self.funcs
        inner.run(body, value, out)

    def _range(self, node: Node, dot: Any, out: list[str]) -> None:
        assert node.pipe is not None
        plain = Pipeline(node.pipe.commands)
        value = self.pipeline(plain, dot)
        if isinstance(value, Mapping):
            items: list[tuple[Any, Any]] = sorted(value.items(), key=lambda kv: kv[0])
        elif isinstance(value, list | tuple):
            items = list(enumerate(value))
        elif isinstance(value, int) and not isinstance(value, bool):
            items = [(i, i) for i in range(value)]  # Go 1.22: range over an integer
        elif value is None or value is MISSING:
            items = []
        else:
            raise TemplateError(f"range can't iterate over {go_str(value)}")
        if not items:
            self.run(node.orelse, dot, out)
            return
        for key, item in items:
            self.scope.frames.append({})
            try:
                names = node.pipe.declare
                if len(names) == 1:
                    self.scope.declare(names[0], item)
                elif len(names) == 2:
                    self.scope.declare(names[0], key)
                    self.scope.declare(names[1], item)
                self.run(node.body, item, out)
            except _Continue:
                continue
            except _Break:
                break
            finally:
                self.scope.frames.pop()

    def pipeline(self, pipe: Pipeline, dot: Any) -> Any:
        value: Any = MISSING
        first = True
        for command in pipe.commands:
            value = self.command(command, dot, None if first else value, not first)
            first = False
        for name in pipe.declare:
            if pipe.assign:
                self.scope.assign(name, value)
            else:
                self.scope.declare(name, value)
        return value

    def command(self, cmd: Command, dot: Any, piped: Any, has_piped: bool) -> Any:
        head = cmd.args[0]
        with_args = len(cmd.args) > 1 or has_piped
        if head.kind == "ident":
            fn = self.funcs.get(head.name)
            if fn is None:
                raise TemplateError(f'function "{head.name}" not defined')
            args = [self.arg(a, dot) for a in cmd.args[1:]]
            if has_piped:
                args.append(piped)
            if head.name in ("and", "or"):
                return self._logic(head.name, args)
            return _call(head.name, fn, args)
        if with_args and head.kind in ("field", "chain") and head.path:
            # a method with arguments: .CommonLabels.Remove .GroupLabels.Names
            if head.kind == "field":
                owner = _field(dot, head.path[:-1])
            else:
                owner = _field(self.arg(head.inner, dot), head.path[:-1])
            name = head.path[-1]
            method = go_method(owner, name)
            if method is not None:
                args = [self.arg(a, dot) for a in cmd.args[1:]]
                if has_piped:
                    args.append(piped)
                want = _arity(method)
                if want >= 0 and want != len(args):
                    raise TemplateError(
                        f"wrong number of args for {name}: want {want} got {len(args)}"
                    )
                return _call(name, lambda *a: method(owner, *a), args)
        if with_args:
            raise TemplateError("can't give argument to non-function")
        return self.arg(head, dot)

    @staticmethod
    def _logic(name: str, args: list[Any]) -> Any:
        for a in args:
            if truthy(a) is (name == "or"):
                return a
        return args[-1]

    def arg(self, a: Arg, dot: Any) -> Any:
        if a.kind == "literal":
            return a.value
        if a.kind == "variable":
            return self.scope.get(a.name)
        if a.kind == "field":
            return _field(dot, a.path) if a.path else dot
        if a.kind == "pipeline":
            return self.pipeline(a.inner, dot)
        if a.kind == "chain":
            return _field(self.arg(a.inner, dot), a.path)
        if a.kind == "ident":
            fn = self.funcs.get(a.name)
            if fn is None:
                raise TemplateError(f'function "{a.name}" not defined')
            return _call(a.name, fn, [])
        raise TemplateError(f"unknown argument {a.kind}")


def _call(name: str, fn: Callable[..., Any], args: list[Any]) -> Any:
    try:
        return fn(*args)
    except TemplateError:
        raise
    except (TypeError, ValueError, KeyError, IndexError, ZeroDivisionError, re.error) as exc:
        raise TemplateError(f"error calling {name}: {exc}") from None


BUILTIN_FUNCS = frozenset({*BUILTINS, "and", "or"})


def execute(
    nodes: Sequence[Node],
    dot: Any,
    funcs: Funcs,
    variables: Mapping[str, Any] | None = None,
    templates: Mapping[str, Sequence[Node]] | None = None,
    escape: Callable[[str], str] | None = None,
) -> str:
    """Run a parsed template with `dot` as `.`; raise TemplateError when execution fails.

    `templates` are named definitions ({{ define }}) that {{ template }} may call; the
    template's own definitions are added to them (see add_definitions). `escape`, when
    given, is applied to what every action prints, except SafeHTML values (as
    html/template does; use html_template_escape)."""
    out: list[str] = []
    funcs = {**funcs, "and": lambda *a: a, "or": lambda *a: a}
    named = add_definitions(templates or {}, definitions(nodes))
    try:
        _Exec(funcs, dot, dict(variables or {}), named, escape=escape).run(nodes, dot, out)
    except RecursionError:
        raise TemplateError("template nested too deeply") from None
    return "".join(out)


def definitions(nodes: Sequence[Node]) -> dict[str, list[Node]]:
    """The {{ define "name" }} bodies at the top level of a parsed template."""
    return {n.text: n.body for n in nodes if n.kind == "define"}


def is_empty(body: Sequence[Node]) -> bool:
    """Whether a definition holds nothing but white space (Go's parse.IsEmptyTree)."""
    return all(n.kind == "text" and not n.text.strip() for n in body)


def add_definitions(
    base: Mapping[str, Sequence[Node]], new: Mapping[str, Sequence[Node]]
) -> dict[str, Sequence[Node]]:
    """Definitions parsed later replace earlier ones, except that an empty one does not
    replace one with content (as Go's text/template associates templates)."""
    merged = dict(base)
    for name, body in new.items():
        if name in merged and is_empty(body) and not is_empty(merged[name]):
            continue
        merged[name] = body
    return merged


def template_calls(nodes: Sequence[Node]) -> set[str]:
    """Names every {{ template "x" }} in the nodes calls."""
    found: set[str] = set()

    def visit(ns: Sequence[Node]) -> None:
        for n in ns:
            if n.kind == "template":
                found.add(n.text)
            visit(n.body)
            visit(n.orelse)

    visit(nodes)
    return found


def check_functions(nodes: Sequence[Node], known: frozenset[str]) -> list[str]:
    """The names of functions a template calls that are not known (Go checks at parse)."""
    missing: list[str] = []

    def visit_pipe(pipe: Pipeline | None) -> None:
        if pipe is None:
            return
        for cmd in pipe.commands:
            for a in cmd.args:
                visit_arg(a)

    def visit_arg(a: Arg) -> None:
        if a.kind == "ident" and a.name not in known and a.name not in BUILTIN_FUNCS:
            missing.append(a.name)
        if a.kind in ("pipeline", "chain") and a.inner is not None:
            if isinstance(a.inner, Pipeline):
                visit_pipe(a.inner)
            else:
                visit_arg(a.inner)

    def visit(ns: Sequence[Node]) -> None:
        for n in ns:
            visit_pipe(n.pipe)
            visit(n.body)
            visit(n.orelse)

    visit(nodes)
    return missing
