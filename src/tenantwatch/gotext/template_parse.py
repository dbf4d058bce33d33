"""Go's text/template syntax parsed into a tree: text, actions with trim markers, pipelines,
variables and the control structures, with errors naming the position."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tenantwatch.gotext.quote import UnquoteError, unquote_runes
from tenantwatch.gotext.template_funcs import TemplateError


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
class Arg:
    kind: str  # literal, variable, field, chain, pipeline, ident
    value: Any = None
    name: str = ""
    path: tuple[str, ...] = ()
    inner: Any = None  # a pipeline (for parenthesised args and chains on them)


@dataclass(frozen=True, slots=True)
class Command:
    args: tuple[Arg, ...]


@dataclass(frozen=True, slots=True)
class Pipeline:
    commands: tuple[Command, ...]
    declare: tuple[str, ...] = ()
    assign: bool = False


@dataclass
class Node:
    kind: str  # text, action, if, range, with, define, template, break, continue
    text: str = ""
    pos: int = 0
    pipe: Pipeline | None = None
    body: list[Node] = field(default_factory=list)
    orelse: list[Node] = field(default_factory=list)


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

    def pipeline(self, *, allow_decl: bool = True) -> Pipeline:
        declare: tuple[str, ...] = ()
        assign = False
        if allow_decl:
            declare, assign = self._declaration()
        commands = [self.command()]
        while (tok := self.peek()) is not None and tok.kind == "pipe":
            self.take()
            commands.append(self.command())
        return Pipeline(tuple(commands), declare, assign)

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

    def command(self) -> Command:
        args: list[Arg] = []
        while (tok := self.peek()) is not None and tok.kind not in ("pipe", "rparen"):
            args.append(self.operand())
        if not args:
            where = self.toks[self.i - 1].pos if self.i else 0
            raise _at(where, "missing value for command")
        return Command(tuple(args))

    def operand(self) -> Arg:
        tok = self.take()
        arg = self._term(tok)
        while (nxt := self.peek()) is not None and nxt.kind == "chain":
            self.take()
            path = tuple(p for p in nxt.text.split(".") if p)
            arg = Arg("chain", path=path, inner=arg)
        return arg

    def _term(self, tok: _Tok) -> Arg:
        k = tok.kind
        if k in ("string", "raw", "char"):
            text = _unquote(tok)
            return Arg("literal", ord(text) if k == "char" else text)
        if k == "number":
            t = tok.text
            if re.fullmatch(r"[-+]?(0[xX][0-9a-fA-F]+|\d+)", t):
                return Arg("literal", int(t, 0))
            return Arg("literal", float(t))
        if k == "variable":
            return Arg("variable", name=tok.text)
        if k == "field":
            return Arg("field", path=tuple(p for p in tok.text.split(".") if p))
        if k == "ident":
            if tok.text in ("true", "false"):
                return Arg("literal", tok.text == "true")
            if tok.text == "nil":
                return Arg("literal", None)
            return Arg("ident", name=tok.text)
        if k == "lparen":
            inner = self.pipeline(allow_decl=False)
            closing = self.peek()
            if closing is None or closing.kind != "rparen":
                raise _at(tok.pos, "unclosed parenthesis")
            self.take()
            return Arg("pipeline", inner=inner)
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


def parse(text: str) -> list[Node]:
    """Parse a template. Raise TemplateError naming the position of the problem."""
    root: list[Node] = []
    stack: list[tuple[Node, list[Node]]] = []
    current = root
    for kind, chunk, pos in _split(text):
        if kind == "text":
            current.append(Node("text", text=chunk))
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
            node = Node(head, pipe=pipe, pos=pos)
            current.append(node)
            stack.append((node, current))
            current = node.body
        elif head == "else":
            if not stack or stack[-1][0].kind not in ("if", "range", "with"):
                raise _at(pos, "unexpected {{else}}")
            node = stack[-1][0]
            if len(toks) > 1 and toks[1].kind == "ident" and toks[1].text in ("if", "with"):
                # else if: a nested node inside the else branch, closed by the same end
                nested = Node(toks[1].text, pipe=_parse_pipe(toks[2:], pos, toks[1].text), pos=pos)
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
            node = Node("define", text=name, pos=pos)
            if head == "block":
                # a block defines the template and runs it in place
                arg = _parse_pipe(toks[2:], pos, head) if len(toks) > 2 else None
                current.append(Node("template", text=name, pipe=arg))
            root.append(node)
            stack.append((node, current))
            current = node.body
        elif head == "template":
            if len(toks) < 2 or toks[1].kind not in ("string", "raw"):
                raise _at(pos, 'template needs a quoted template name: {{ template "name" . }}')
            arg = _parse_pipe(toks[2:], pos, head) if len(toks) > 2 else None
            current.append(Node("template", text=_unquote(toks[1]), pipe=arg, pos=pos))
        elif head in ("break", "continue"):
            if len(toks) > 1:
                raise _at(toks[1].pos, f"unexpected {toks[1].text!r} in {head}")
            if not _in_range(stack):
                raise _at(pos, f"{{{{{head}}}}} outside {{{{range}}}}")
            current.append(Node(head, pos=pos))
        else:
            current.append(Node("action", pipe=_parse_pipe(toks, pos, "action")))
    if stack:
        opened = stack[-1][0]
        raise _at(
            opened.pos,
            f"unexpected end of template: {{{{{opened.kind}}}}} has no end; "
            "close it with {{ end }}",
        )
    return root


_CHAINED: list[Node] = []  # marker: the parent of an else-if node closes with it


def _in_range(stack: Sequence[tuple[Node, list[Node]]]) -> bool:
    for node, _ in reversed(stack):
        if node.kind == "range":
            return True
        if node.kind == "define":
            return False
    return False


def _parse_pipe(toks: list[_Tok], pos: int, what: str) -> Pipeline:
    if not toks:
        raise _at(pos, f"missing value for {what}")
    parser = _PipeParser(toks)
    pipe = parser.pipeline()
    if parser.peek() is not None:
        tok = parser.take()
        raise _at(tok.pos, f"unexpected {tok.text!r} in {what}")
    return pipe
