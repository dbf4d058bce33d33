"""Config errors that point at a file and line and say how to fix the problem."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pydantic import AfterValidator

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class ConfigError(Exception):
    """One or more problems in a config file, each with its file and line."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = sorted(issues, key=lambda i: (i.file, i.line))
        super().__init__("\n".join(str(i) for i in self.issues))


def refusing(problem: Callable[[T], str | None]) -> AfterValidator:
    """A pydantic validator that refuses a value with the sentence problem(value) gives; a
    value for which it gives None or "" passes unchanged. Pydantic reports it as any other
    validation error, at the value's place."""

    def check(value: T) -> T:
        reason = problem(value)
        if reason:
            raise ValueError(reason)
        return value

    return AfterValidator(check)


def read_text(path: Path) -> str:
    """The text of a config file. Raise ConfigError (at line 0) when it is missing or cannot
    be read as UTF-8."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([ConfigIssue(str(path), 0, "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([ConfigIssue(str(path), 0, f"cannot read file: {exc}")]) from None
