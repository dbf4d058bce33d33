"""/metrics labels requests by the declared route template, never by the requested path."""

from __future__ import annotations

import secrets

import httpx

from tenantwatch.domain.apikeys import Scope
from tests.conftest import KeyMaker
from tests.support import bearer


async def test_random_paths_do_not_grow_the_metrics_page(client: httpx.AsyncClient) -> None:
    # 5,000 such requests grew it from 157 KB to 12 MB: a GET under /metrics/ matched the
    # push route's path (405) and was labelled with the path's own segments
    await client.get("/metrics/job/warm")
    await client.get("/no/such/page")
    await client.put("/metrics/job/warm", content=b"x 1\n")
    await client.get("/metrics")
    before = len((await client.get("/metrics")).text)
    for i in range(500):
        word = secrets.token_hex(8)
        await client.get(f"/metrics/job/{word}/instance/{i}")
        await client.get(f"/{word}/{i}")
        await client.put(f"/metrics/job/{word}", content=b"x 1\n")  # no key: 401
    text = (await client.get("/metrics")).text
    assert len(text) - before < 2000, f"/metrics grew by {len(text) - before} bytes"
    assert 'route="/metrics/{path:path}",status="405"' in text
    assert 'route="/metrics/{path:path}",status="401"' in text
    assert 'route="<unmatched>",status="404"' in text


async def test_a_tenants_push_path_never_shows_on_metrics(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    key = bearer(await make_key(Scope.WRITE))
    secret = secrets.token_hex(16)
    r = await client.put(f"/metrics/job/{secret}/instance/db-1", content=b"a 1\n", headers=key)
    assert r.status_code in (200, 503)
    await client.get(f"/metrics/job/{secret}")
    text = (await client.get("/metrics")).text
    assert secret not in text
    assert 'method="PUT",route="/metrics/{path:path}"' in text


async def test_templates_keep_their_router_prefixes(client: httpx.AsyncClient) -> None:
    await client.get("/api/v1/tenants/some-tenant")
    await client.get("/api/v2/silence/abc")
    text = (await client.get("/metrics")).text
    assert 'route="/api/v1/tenants/{tenant_id}"' in text
    assert "some-tenant" not in text
    assert 'route="/api/v2/silence/{silence_id}"' in text
