"""Target files read as Prometheus' file_sd reads them, and refused with file:line."""

from __future__ import annotations

import pytest

from tenantwatch.metrics.discovery.file_format import TargetFileError, parse_target_file
from tenantwatch.metrics.target_groups import TargetGroup


def test_a_yaml_file_gives_a_group_per_item_with_its_path() -> None:
    text = "- targets: ['a:9100', 'b:9100']\n  labels: {env: prod}\n- targets: ['c:9100']\n"
    assert parse_target_file(text, "/sd/web.yml") == [
        TargetGroup(
            "/sd/web.yml:0",
            ((("__address__", "a:9100"),), (("__address__", "b:9100"),)),
            (("__meta_filepath", "/sd/web.yml"), ("env", "prod")),
        ),
        TargetGroup(
            "/sd/web.yml:1",
            ((("__address__", "c:9100"),),),
            (("__meta_filepath", "/sd/web.yml"),),
        ),
    ]


def test_a_json_file_reads_the_same() -> None:
    text = '[{"targets": ["a:9100"], "labels": {"env": "prod"}}]'
    [group] = parse_target_file(text, "sd/web.JSON")
    assert group.targets == ((("__address__", "a:9100"),),)
    assert dict(group.labels) == {"env": "prod", "__meta_filepath": "sd/web.JSON"}


def test_an_empty_file_has_no_groups() -> None:
    assert parse_target_file("", "x.yml") == []


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("- targets: [a:1]\n- targets: [b:1]\n  lables: {}\n", 2, "unknown field 'lables'"),
        ("- targets: [a:1]\n  labels: {bad-name: x}\n", 1, "'bad-name' is not a valid label name"),
        ("- targets: [a:1]\n  labels: {port: 9100}\n", 1, "the value must be a string"),
        ("- targets: a:1\n", 1, "'targets' must be a list"),
        ("targets: [a:1]\n", 1, "expected a list of target groups"),
        ("- targets: [a:1\n", 2, "not valid YAML"),
    ],
)
def test_a_bad_yaml_file_says_where_and_why(text: str, line: int, words: str) -> None:
    with pytest.raises(TargetFileError) as info:
        parse_target_file(text, "x.yml")
    assert info.value.line == line
    assert words in info.value.message


def test_a_bad_json_file_says_which_line() -> None:
    with pytest.raises(TargetFileError) as info:
        parse_target_file('[\n{"targets": ["a:1"],}\n]', "x.json")
    assert info.value.line == 2 and "not valid JSON" in info.value.message
