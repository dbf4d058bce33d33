from __future__ import annotations

import pytest
from pydantic import ValidationError

from tenantwatch.settings import Settings


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://u:p@db:5432/tw", "postgresql+asyncpg://u:p@db:5432/tw"),
        ("postgres://u@db/tw", "postgresql+asyncpg://u@db/tw"),
        ("postgresql+asyncpg://u@db/tw", "postgresql+asyncpg://u@db/tw"),
        ("sqlite:////srv/tw.db", "sqlite+aiosqlite:////srv/tw.db"),
        ("", None),
    ],
)
def test_database_urls_are_taken_in_the_spelling_people_use(given: str, used: str | None) -> None:
    assert Settings(database_url=given).database_url == used


@pytest.mark.parametrize(
    ("given", "fragment"),
    [
        ("not a url", "not a database URL"),
        ("postgresql://u@db:notaport/tw", "not a database URL"),
        ("mysql+aiomysql://u@db/tw", "unsupported database 'mysql+aiomysql'"),
    ],
)
def test_other_database_urls_are_refused_with_an_example(given: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        Settings(database_url=given)
    assert fragment in str(info.value) and "postgresql://" in str(info.value)


def test_the_default_database_is_sqlite_in_the_data_dir(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = Settings(data_dir=tmp_path).effective_database_url
    assert url == f"sqlite+aiosqlite:///{tmp_path / 'tenantwatch.db'}"


@pytest.mark.parametrize("listen", ["8080", "host:", ":80", "h:0", "h:70000", "h:x"])
def test_a_bad_listen_address_is_refused(listen: str) -> None:
    with pytest.raises(ValidationError, match="host:port"):
        Settings(listen=listen)
