"""/docs and /redoc work without internet: every file they load is served by tenantwatch."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tenantwatch.config.model import Config
from tenantwatch.runtime.root import build_runtime, prepare
from tenantwatch.settings import Settings
from tenantwatch.web.app import create_app
from tests.web.html_links import references


@pytest.fixture
async def app_client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(data_dir=tmp_path / "var")
    rt = build_runtime(settings, Config())
    await prepare(rt)
    app = create_app(settings, runtime=rt)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://tw.test"
        ) as c:
            yield c
    finally:
        await rt.stop()


def inline_urls(page: str) -> list[str]:
    """URLs written inside the page's scripts (Swagger UI's `url: '/openapi.json'`)."""
    return re.findall(r"""url:\s*['"]([^'"]+)['"]""", page)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_docs_page_loads_only_files_the_app_serves(
    app_client: httpx.AsyncClient, page: str
) -> None:
    answer = await app_client.get(page)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    urls = [url for _, url in references(answer.text)] + inline_urls(answer.text)
    assert any(url.endswith(".js") for url in urls), urls
    assert "/openapi.json" in urls
    assert "http://" not in answer.text and "https://" not in answer.text
    for url in urls:
        assert not urlsplit(url).netloc, f"{page} loads {url} from another host"
        asset = await app_client.get(url)
        assert asset.status_code == 200, (
            f"{page} refers to {url}, which answers {asset.status_code}"
        )
        assert asset.content, url


async def test_the_swagger_ui_bundle_is_served_with_a_javascript_type(
    app_client: httpx.AsyncClient,
) -> None:
    page = (await app_client.get("/docs")).text
    js = next(url for _, url in references(page) if url.endswith("swagger-ui-bundle.js"))
    answer = await app_client.get(js)
    assert "javascript" in answer.headers["content-type"]
    assert b"SwaggerUIBundle" in answer.content


async def test_the_docs_pages_stay_out_of_the_openapi_document(
    app_client: httpx.AsyncClient,
) -> None:
    paths = (await app_client.get("/openapi.json")).json()["paths"]
    assert not {"/", "/docs", "/redoc"} & set(paths)
    assert not any(p.startswith("/assets/") for p in paths)
