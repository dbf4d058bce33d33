"""Problems become issues at a file and line, and validation errors, one way each."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pytest
from pydantic import BaseModel, ValidationError

from tenantwatch.config.errors import ConfigError, ConfigIssue, read_text, refusing
from tenantwatch.config.yaml_lines import issue_at, load_yaml


def _even_problem(value: int) -> str | None:
    return None if value % 2 == 0 else f"{value} is odd; use an even number"


class _Model(BaseModel):
    n: Annotated[int, refusing(_even_problem)]


def test_a_refused_value_is_a_validation_error_with_the_problem_as_its_message() -> None:
    assert _Model(n=4).n == 4
    with pytest.raises(ValidationError) as caught:
        _Model(n=3)
    [err] = caught.value.errors()
    assert err["loc"] == ("n",)
    assert err["msg"] == "Value error, 3 is odd; use an even number"


def test_an_issue_is_placed_at_the_line_of_its_value_or_the_nearest_enclosing_one() -> None:
    _, lines, _ = load_yaml("a:\n  b: 1\n  c:\n    - x\n", "f.yml", None)
    assert issue_at("f.yml", lines, ("a", "c", 0), "bad") == ConfigIssue("f.yml", 4, "bad")
    assert issue_at("f.yml", lines, ("a", "b", "deeper"), "bad").line == 2


def test_reading_a_missing_or_undecodable_file_is_a_config_error_at_line_0(
    tmp_path: Path,
) -> None:
    with pytest.raises(ConfigError) as caught:
        read_text(tmp_path / "nope.yml")
    assert str(caught.value) == f"{tmp_path / 'nope.yml'}:0: file not found"
    latin = tmp_path / "latin.yml"
    latin.write_bytes(b"name: \xe9t\xe9\n")
    with pytest.raises(ConfigError, match=r"latin\.yml:0: cannot read file: 'utf-8' codec"):
        read_text(latin)
