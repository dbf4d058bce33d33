"""A subset of Go's text/template, enough for Prometheus alert labels and annotations.

Supported: text and actions with trim markers (`{{-`, `-}}`), comments, pipelines
(`$value | humanize`, `printf "%.2f" $value`), variables (`$x := ...`, `$x = ...`), field
access on maps (`$labels.tenant`, `.Labels.job`), parenthesised pipelines, string, raw
string, number, bool and nil literals, and `if` / `else if` / `else` / `with` / `range`
(over lists and maps, sorted by key, with `$k, $v :=`) ... `end`. Functions come from the
caller (see domain.template_funcs); `and`, `or`, `not`, `len`, `index`, `eq`, `ne`, `lt`,
`le`, `gt`, `ge` are built in, as in Go.

Output follows Go with Prometheus' option missingkey=zero: a missing label reads as "",
and floats print as `%v` does.
Nothing is evaluated as Python. Parse errors raise TemplateError naming the position.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tenantwatch.gotext.quote import UnquoteError, unquote_runes
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

# what callers import from here though it is defined in gotemplate_funcs
__all__ = [
    "MISSING",
    "NO_VALUE",
    "SafeHTML",
    "TemplateError",
    "go_str",
    "html_template_escape",
    "truthy",
]


def _at(pos: int, message: str) -> TemplateError:
    return TemplateError(f"position {pos}: {message}", pos)


# -- lexing -----------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<raw>`[^`]*`)
  | (?P<char>'(?:[^'\\]|\\.)')
  | (?P<declare>:=)
  | (?P<assign>=)
  | (?P<number>[-+]?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?))
  | (?P<variable>\$[A-Za-z0-9_]*)
  | (?P<field>(?:\.[A-Za-z_][A-Za-z0-9_]*)+|\.)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<pipe>\|)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<comma>,)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str
    text: str
    pos: int


def _lex(action: str, base: int) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    while pos < len(action):
        m = _TOKEN.match(action, pos)
        if m is None:
            raise _at(base + pos, f"unexpected {action[pos]!r} in action")
        kind = m.lastgroup or ""
        if kind != "space":
            # `.Labels.x` after a variable or a closing parenthesis is field access on it
            text = m.group()
            if kind == "field" and out and pos == out[-1].pos + len(out[-1].text) - base:
                prev = out[-1]
                if prev.kind in ("variable", "rparen", "chain") and text != ".":
                    out.append(_Tok("chain", text, base + pos))
                    pos = m.end()
                    continue
            out.append(_Tok(kind, text, base + pos))
        pos = m.end()
    return out


def _unquote(tok: _Tok) -> str:
    if tok.kind == "raw":
        return tok.text[1:-1]
    try:
        return unquote_runes(tok.text)
    except UnquoteError as exc:
        raise _at(tok.pos, str(exc)) from None


# -- parse tree -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Arg:
    kind: str  # literal, variable, field, chain, pipeline, ident
    value: Any = None
    name: str = ""
    path: tuple[str, ...] = ()
    inner: Any = None  # a pipeline (for parenthesised args and chains on them)


@dataclass(frozen=True, slots=True)
class _Command:
    args: tuple[_Arg, ...]


@dataclass(frozen=True, slots=True)
class _Pipeline:
    commands: tuple[_Command, ...]
    declare: tuple[str, ...] = ()
    assign: bool = False


@dataclass
class _Node:
    kind: str  # text, action, if, range, with, define, template, break, continue
    text: str = ""
    pos: int = 0
    pipe: _Pipeline | None = None
    body: list[_Node] = field(default_factory=list)
    orelse: list[_Node] = field(default_factory=list)


class _PipeParser:
    def __init__(self, toks: list[_Tok]) -> None:
        self.toks = toks
        self.i = 0

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def pipeline(self, *, allow_decl: bool = True) -> _Pipeline:
        declare: tuple[str, ...] = ()
        assign = False
        if allow_decl:
            declare, assign = self._declaration()
        commands = [self.command()]
        while (tok := self.peek()) is not None and tok.kind == "pipe":
            self.take()
            commands.append(self.command())
        return _Pipeline(tuple(commands), declare, assign)

    def _declaration(self) -> tuple[tuple[str, ...], bool]:
        toks = self.toks[self.i :]
        if len(toks) >= 2 and toks[0].kind == "variable":
            if toks[1].kind in ("declare", "assign"):
                self.i += 2
                return (toks[0].text,), toks[1].kind == "assign"
            if (
                len(toks) >= 4
                and toks[1].kind == "comma"
                and toks[2].kind == "variable"
                and toks[3].kind in ("declare", "assign")
            ):
                self.i += 4
                return (toks[0].text, toks[2].text), toks[3].kind == "assign"
        return (), False

    def command(self) -> _Command:
        args: list[_Arg] = []
        while (tok := self.peek()) is not None and tok.kind not in ("pipe", "rparen"):
            args.append(self.operand())
        if not args:
            where = self.toks[self.i - 1].pos if self.i else 0
            raise _at(where, "missing value for command")
        return _Command(tuple(args))

    def operand(self) -> _Arg:
        tok = self.take()
        arg = self._term(tok)
        while (nxt := self.peek()) is not None and nxt.kind == "chain":
            self.take()
            path = tuple(p for p in nxt.text.split(".") if p)
            arg = _Arg("chain", path=path, inner=arg)
        return arg

    def _term(self, tok: _Tok) -> _Arg:
        k = tok.kind
        if k in ("string", "raw", "char"):
            text = _unquote(tok)
            return _Arg("literal", ord(text) if k == "char" else text)
        if k == "number":
            t = tok.text
            if re.fullmatch(r"[-+]?(0[xX][0-9a-fA-F]+|\d+)", t):
                return _Arg("literal", int(t, 0))
            return _Arg("literal", float(t))
        if k == "variable":
            return _Arg("variable", name=tok.text)
        if k == "field":
            return _Arg("field", path=tuple(p for p in tok.text.split(".") if p))
        if k == "ident":
            if tok.text in ("true", "false"):
                return _Arg("literal", tok.text == "true")
            if tok.text == "nil":
                return _Arg("literal", None)
            return _Arg("ident", name=tok.text)
        if k == "lparen":
            inner = self.pipeline(allow_decl=False)
            closing = self.peek()
            if closing is None or closing.kind != "rparen":
                raise _at(tok.pos, "unclosed parenthesis")
            self.take()
            return _Arg("pipeline", inner=inner)
        raise _at(tok.pos, f"unexpected {tok.text!r}")


_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.DOTALL)


def _split(text: str) -> list[tuple[str, str, int]]:
    """("text", chunk, pos) and ("action", inner, pos) in order, trim markers applied."""
    parts: list[tuple[str, str, int]] = []
    pos = 0
    trim_next = False
    for m in _ACTION.finditer(text):
        chunk = text[pos : m.start()]
        if trim_next:
            chunk = chunk.lstrip()
        if m.group(1):
            chunk = chunk.rstrip()
        if chunk:
            parts.append(("text", chunk, pos))
        parts.append(("action", m.group(2), m.start(2)))
        trim_next = bool(m.group(3))
        pos = m.end()
    rest = text[pos:]
    if "{{" in rest:
        raise _at(pos + rest.index("{{"), "unclosed action (missing }})")
    if trim_next:
        rest = rest.lstrip()
    if rest:
        parts.append(("text", rest, pos))
    return parts


def parse(text: str) -> list[_Node]:
    """Parse a template. Raise TemplateError naming the position of the problem."""
    root: list[_Node] = []
    stack: list[tuple[_Node, list[_Node]]] = []
    current = root
    for kind, chunk, pos in _split(text):
        if kind == "text":
            current.append(_Node("text", text=chunk))
            continue
        inner = chunk.strip()
        if inner.startswith("/*"):
            if not inner.endswith("*/"):
                raise _at(pos, "unclosed comment")
            continue
        toks = _lex(inner, pos)
        if not toks:
            raise _at(pos, "missing value for command")
        head = toks[0].text if toks[0].kind == "ident" else ""
        if head in ("if", "range", "with"):
            pipe = _parse_pipe(toks[1:], pos, head)
            node = _Node(head, pipe=pipe, pos=pos)
            current.append(node)
            stack.append((node, current))
            current = node.body
        elif head == "else":
            if not stack or stack[-1][0].kind not in ("if", "range", "with"):
                raise _at(pos, "unexpected {{else}}")
            node = stack[-1][0]
            if len(toks) > 1 and toks[1].kind == "ident" and toks[1].text in ("if", "with"):
                # else if: a nested node inside the else branch, closed by the same end
                nested = _Node(toks[1].text, pipe=_parse_pipe(toks[2:], pos, toks[1].text), pos=pos)
                node.orelse.append(nested)
                parent_current = stack.pop()[1]
                stack.append((node, parent_current))
                stack.append((nested, _CHAINED))
                current = nested.body
            else:
                current = node.orelse
        elif head == "end":
            if not stack:
                raise _at(pos, "unexpected {{end}}")
            node, current = stack.pop()
            while current is _CHAINED:  # close the else-if chain in one go
                node, current = stack.pop()
        elif head in ("define", "block"):
            if len(toks) < 2 or toks[1].kind not in ("string", "raw"):
                raise _at(pos, f'{head} needs a quoted template name: {{{{ {head} "name" }}}}')
            name = _unquote(toks[1])
            if stack and head == "define":
                raise _at(pos, "define is only allowed at the top level, not inside another action")
            if head == "define" and len(toks) > 2:
                raise _at(toks[2].pos, f"unexpected {toks[2].text!r} after the name in define")
            node = _Node("define", text=name, pos=pos)
            if head == "block":
                # a block defines the template and runs it in place
                arg = _parse_pipe(toks[2:], pos, head) if len(toks) > 2 else None
                current.append(_Node("template", text=name, pipe=arg))
            root.append(node)
            stack.append((node, current))
            current = node.body
        elif head == "template":
            if len(toks) < 2 or toks[1].kind not in ("string", "raw"):
                raise _at(pos, 'template needs a quoted template name: {{ template "name" . }}')
            arg = _parse_pipe(toks[2:], pos, head) if len(toks) > 2 else None
            current.append(_Node("template", text=_unquote(toks[1]), pipe=arg, pos=pos))
        elif head in ("break", "continue"):
            if len(toks) > 1:
                raise _at(toks[1].pos, f"unexpected {toks[1].text!r} in {head}")
            if not _in_range(stack):
                raise _at(pos, f"{{{{{head}}}}} outside {{{{range}}}}")
            current.append(_Node(head, pos=pos))
        else:
            current.append(_Node("action", pipe=_parse_pipe(toks, pos, "action")))
    if stack:
        opened = stack[-1][0]
        raise _at(
            opened.pos,
            f"unexpected end of template: {{{{{opened.kind}}}}} has no end; "
            "close it with {{ end }}",
        )
    return root


_CHAINED: list[_Node] = []  # marker: the parent of an else-if node closes with it


def _in_range(stack: Sequence[tuple[_Node, list[_Node]]]) -> bool:
    for node, _ in reversed(stack):
        if node.kind == "range":
            return True
        if node.kind == "define":
            return False
    return False


def _parse_pipe(toks: list[_Tok], pos: int, what: str) -> _Pipeline:
    if not toks:
        raise _at(pos, f"missing value for {what}")
    parser = _PipeParser(toks)
    pipe = parser.pipeline()
    if parser.peek() is not None:
        tok = parser.take()
        raise _at(tok.pos, f"unexpected {tok.text!r} in {what}")
    return pipe


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
        templates: Mapping[str, Sequence[_Node]] | None = None,
        depth: int = 0,
        escape: Callable[[str], str] | None = None,
    ) -> None:
        self.funcs = {**BUILTINS, **funcs}
        self.scope = _Scope({"$": dot, **variables})
        self.templates = templates or {}
        self.depth = depth
        self.escape = escape

    def run(self, nodes: Sequence[_Node], dot: Any, out: list[str]) -> None:
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

    def _template(self, node: _Node, dot: Any, out: list[str]) -> None:
        body = self.templates.get(node.text)
        if body is None:
            raise TemplateError(f'no such template "{node.text}"')
        if self.depth >= 100:
            raise TemplateError(f'template "{node.text}" calls itself too deeply (100 levels)')
        value = self.pipeline(node.pipe, dot) if node.pipe is not None else None
        inner = _Exec({}, value, {}, self.templates, self.depth + 1, self.escape)
        inner.funcs = self.funcs
        inner.run(body, value, out)

    def _range(self, node: _Node, dot: Any, out: list[str]) -> None:
        assert node.pipe is not None
        plain = _Pipeline(node.pipe.commands)
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

    def pipeline(self, pipe: _Pipeline, dot: Any) -> Any:
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

    def command(self, cmd: _Command, dot: Any, piped: Any, has_piped: bool) -> Any:
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

    def arg(self, a: _Arg, dot: Any) -> Any:
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
    nodes: Sequence[_Node],
    dot: Any,
    funcs: Funcs,
    variables: Mapping[str, Any] | None = None,
    templates: Mapping[str, Sequence[_Node]] | None = None,
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


def definitions(nodes: Sequence[_Node]) -> dict[str, list[_Node]]:
    """The {{ define "name" }} bodies at the top level of a parsed template."""
    return {n.text: n.body for n in nodes if n.kind == "define"}


def is_empty(body: Sequence[_Node]) -> bool:
    """Whether a definition holds nothing but white space (Go's parse.IsEmptyTree)."""
    return all(n.kind == "text" and not n.text.strip() for n in body)


def add_definitions(
    base: Mapping[str, Sequence[_Node]], new: Mapping[str, Sequence[_Node]]
) -> dict[str, Sequence[_Node]]:
    """Definitions parsed later replace earlier ones, except that an empty one does not
    replace one with content (as Go's text/template associates templates)."""
    merged = dict(base)
    for name, body in new.items():
        if name in merged and is_empty(body) and not is_empty(merged[name]):
            continue
        merged[name] = body
    return merged


def template_calls(nodes: Sequence[_Node]) -> set[str]:
    """Names every {{ template "x" }} in the nodes calls."""
    found: set[str] = set()

    def visit(ns: Sequence[_Node]) -> None:
        for n in ns:
            if n.kind == "template":
                found.add(n.text)
            visit(n.body)
            visit(n.orelse)

    visit(nodes)
    return found


def check_functions(nodes: Sequence[_Node], known: frozenset[str]) -> list[str]:
    """The names of functions a template calls that are not known (Go checks at parse)."""
    missing: list[str] = []

    def visit_pipe(pipe: _Pipeline | None) -> None:
        if pipe is None:
            return
        for cmd in pipe.commands:
            for a in cmd.args:
                visit_arg(a)

    def visit_arg(a: _Arg) -> None:
        if a.kind == "ident" and a.name not in known and a.name not in BUILTIN_FUNCS:
            missing.append(a.name)
        if a.kind in ("pipeline", "chain") and a.inner is not None:
            if isinstance(a.inner, _Pipeline):
                visit_pipe(a.inner)
            else:
                visit_arg(a.inner)

    def visit(ns: Sequence[_Node]) -> None:
        for n in ns:
            visit_pipe(n.pipe)
            visit(n.body)
            visit(n.orelse)

    visit(nodes)
    return missing
