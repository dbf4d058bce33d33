"""Go text/template pieces Alertmanager templates need: define/template/block, trim
markers, break/continue, methods, struct fields and Go's built-in functions."""

from __future__ import annotations

from typing import Any

import pytest

from tenantwatch.gotext.template import TemplateError, execute, parse


def run(text: str, dot: Any = None, **variables: Any) -> str:
    return execute(parse(text), dot, {}, {f"${k}": v for k, v in variables.items()})


def test_a_defined_template_runs_where_it_is_called_with_the_given_dot() -> None:
    text = '{{ define "greet" }}hello {{ . }}{{ end }}[{{ template "greet" "bob" }}]'
    assert run(text) == "[hello bob]"


def test_template_without_a_pipeline_gets_nil_as_dot() -> None:
    assert run('{{ define "x" }}<{{ . }}>{{ end }}{{ template "x" }}') == "<<nil>>"


def test_a_block_defines_and_runs_in_place() -> None:
    assert run('a{{ block "b" . }}[{{ . }}]{{ end }}c', 7) == "a[7]c"


def test_a_later_definition_replaces_an_earlier_one_from_the_caller() -> None:
    base = {"x": parse("old")}
    out = execute(parse('{{ define "x" }}new{{ end }}{{ template "x" }}'), None, {}, None, base)
    assert out == "new"


def test_an_empty_definition_does_not_replace_one_with_content() -> None:
    base = {"x": parse("kept")}
    out = execute(parse('{{ define "x" }}  {{ end }}{{ template "x" }}'), None, {}, None, base)
    assert out == "kept"


def test_calling_an_undefined_template_fails() -> None:
    with pytest.raises(TemplateError, match='no such template "nope"'):
        run('{{ template "nope" . }}')


def test_a_template_that_calls_itself_forever_stops_with_an_error() -> None:
    with pytest.raises(TemplateError, match="too deeply"):
        run('{{ define "loop" }}{{ template "loop" . }}{{ end }}{{ template "loop" . }}')


def test_define_inside_another_action_is_refused() -> None:
    with pytest.raises(TemplateError, match="top level"):
        parse('{{ if true }}{{ define "x" }}{{ end }}{{ end }}')


def test_template_needs_a_quoted_name() -> None:
    with pytest.raises(TemplateError, match="quoted template name"):
        parse("{{ template x }}")


def test_trim_markers_remove_white_space_on_their_side() -> None:
    assert run("a  \n {{- 1 -}} \n  b") == "a1b"
    assert run("a {{- 1 }} b") == "a1 b"


def test_a_negative_number_is_not_a_trim_marker() -> None:
    assert run("{{-3}}") == "-3"


def test_break_and_continue_inside_range() -> None:
    text = "{{ range . }}{{ if eq . 2 }}{{ continue }}{{ end }}{{ if eq . 4 }}{{ break }}{{ end }}{{ . }}{{ end }}"
    assert run(text, [1, 2, 3, 4, 5]) == "13"


def test_break_outside_range_is_a_parse_error() -> None:
    with pytest.raises(TemplateError, match="outside"):
        parse("{{ break }}")


def test_an_unclosed_block_names_the_position_where_it_opened() -> None:
    with pytest.raises(TemplateError) as caught:
        parse("text\n{{ range . }}x")
    assert caught.value.pos == 7
    assert "has no end" in str(caught.value)


class Box:
    """A Go struct with a method with and without arguments."""

    go_fields = frozenset({"Name"})
    go_name = "main.Box"

    def __init__(self, name: str) -> None:
        self.Name = name

    def Upper(self) -> str:
        return self.Name.upper()

    def Join(self, sep: str, other: str) -> str:
        return f"{self.Name}{sep}{other}"


def test_methods_without_arguments_read_like_fields() -> None:
    assert run("{{ .Upper }}", Box("x")) == "X"


def test_methods_with_arguments_take_them_and_the_piped_value() -> None:
    assert run('{{ .Join "-" "y" }}', Box("x")) == "x-y"
    assert run('{{ "y" | .Join "+" }}', Box("x")) == "x+y"
    assert run('{{ $b.Join "/" "z" }}', b=Box("x")) == "x/z"


def test_a_method_used_without_its_arguments_is_an_error_as_in_go() -> None:
    with pytest.raises(TemplateError, match="wrong number of args for Join: want 2 got 0"):
        run("{{ .Join }}", Box("x"))


def test_unknown_struct_fields_are_errors_but_missing_map_keys_are_empty() -> None:
    with pytest.raises(TemplateError, match=r"can't evaluate field Nope in type main\.Box"):
        run("{{ .Nope }}", Box("x"))
    assert run("[{{ .nope }}]", {"a": "1"}) == "[]"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{{ print 1 2 "a" "b" 3 }}', "1 2ab3"),
        ('{{ println 1 "x" }}', "1 x\n"),
        ('{{ html `<a href="x">\'&` }}', "&lt;a href=&#34;x&#34;&gt;&#39;&amp;"),
        ('{{ urlquery "a b&c/d" }}', "a+b%26c%2Fd"),
        ("{{ js `a'b\"<` }}", "a\\'b\\\"\\u003C"),
        ('{{ slice "abcdef" 1 3 }}', "bc"),
        ('{{ len "abc" }}', "3"),
        ('{{ index . "k" }}|{{ index . "missing" }}', "v|"),
    ],
)
def test_go_builtin_functions(text: str, expected: str) -> None:
    assert run(text, {"k": "v"}) == expected


def test_len_of_a_number_is_an_error() -> None:
    with pytest.raises(TemplateError, match="len of type int"):
        run("{{ len 3 }}")
