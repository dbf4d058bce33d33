"""GET / links to what the server offers, and every link on it opens."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from tenantwatch.config.model import Config
from tenantwatch.domain.apikeys import SYSTEM, Scope
from tenantwatch.runtime.root import build_runtime, prepare
from tenantwatch.settings import Settings
from tenantwatch.web.app import create_app
from tests.support import bearer
from tests.web.html_links import references


@asynccontextmanager
async def serving(
    tmp_path: Path, *, inspector: bool, metrics_public: bool
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A client of a migrated app, and an admin key for it."""
    settings = Settings(data_dir=tmp_path / "var", metrics_public=metrics_public)
    rt = build_runtime(settings, Config.model_validate({"inspector": {"enabled": inspector}}))
    await prepare(rt)
    issued = await rt.api_keys.issue(SYSTEM, name="test", scopes=[Scope.ADMIN])
    app = create_app(settings, runtime=rt)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://tw.test"
        ) as c:
            yield c, issued.secret
    finally:
        await rt.stop()


def links(page: str) -> list[str]:
    return [url for tag, url in references(page) if tag == "a"]


def keyed_paths(page: str) -> list[str]:
    """The API paths the page names without linking them."""
    return re.findall(r"<tr><td><code>([^<]+)</code>", page)


@pytest.mark.parametrize(
    ("inspector", "metrics_public"), [(True, True), (False, False)], ids=["demo", "locked"]
)
async def test_every_link_on_the_home_page_opens_without_a_key(
    tmp_path: Path, inspector: bool, metrics_public: bool
) -> None:
    async with serving(tmp_path, inspector=inspector, metrics_public=metrics_public) as (c, _):
        answer = await c.get("/")
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/html")
        found = links(answer.text)
        for url in found:
            opened = await c.get(url.replace("&amp;", "&"))
            assert opened.status_code == 200, f"/ links {url}, which answers {opened.status_code}"
    assert {"/docs", "/redoc", "/openapi.json", "/health", "/health/detailed"} <= set(found)
    assert ("/inspector" in found) is inspector
    assert ("/metrics" in found) is metrics_public


async def test_the_keyed_apis_it_names_answer_401_without_a_key_and_200_with_one(
    tmp_path: Path,
) -> None:
    async with serving(tmp_path, inspector=False, metrics_public=False) as (c, key):
        page = (await c.get("/")).text
        named = keyed_paths(page)
        assert "/api/v1/tenants" in named and "/api/v2/alerts" in named and "/metrics" in named
        for path in named:
            path = path.replace("&amp;", "&")
            assert (await c.get(path)).status_code == 401, path
            assert (await c.get(path, headers=bearer(key))).status_code == 200, path
    assert "Authorization: Bearer" in page and "admin-key" in page
    assert 'curl -H "Authorization: Bearer $(cat ' in page.replace("&quot;", '"')
