"""Fuzz the real HTTP server from its own /openapi.json with schemathesis.

The app runs under uvicorn on 127.0.0.1 (a free port) in a background thread, on a fresh
SQLite or PostgreSQL database, started as `tenantwatch serve` starts it: migrate, sync the config's
tenants, bootstrap an admin key. Every operation in /openapi.json is then called with
generated input and that admin key; a 500, an undocumented status code or content type, or
a body that does not match the documented schema fails the run. Nothing is excluded.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import schemathesis
import structlog
import uvicorn
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.hooks import HookContext
from schemathesis.models import Case

from tenantwatch.config.model import Config
from tenantwatch.domain.apikeys import SYSTEM, Scope
from tenantwatch.runtime.root import ALL_ROLES, build_runtime, prepare
from tenantwatch.settings import Settings
from tenantwatch.web.app import create_app
from tests.conftest import ENGINES, create_pg_database, drop_pg_database

# "gamma" is declared in the config file, so PATCH and DELETE on it answer 409
CONFIG = Config.model_validate(
    {"tenants": [{"id": "gamma", "name": "Gamma", "tier": "professional"}]}
)
CHECKS = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
)
# Paths served without a key: the service endpoints and the API's own documentation
# the inspector is the demo's local receiver: off unless the config enables it, and open
UNAUTHENTICATED = ("/health", "/metrics", "/openapi.json", "/docs", "/ping/", "/inspector")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass
class LiveApi:
    base_url: str
    admin_key: str
    admin_key_id: str
    openapi: dict[str, Any] = field(default_factory=dict)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_key}"}

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=10, **kwargs)

    def operations(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """Yield (METHOD, path, operation) for every operation in /openapi.json."""
        for path, item in self.openapi["paths"].items():
            for method, operation in item.items():
                if method in METHODS:
                    yield method.upper(), path, operation


# Ids of the seeded objects, by path parameter name; filled by live_api, read by the hook
SEEDED: dict[str, list[str]] = {}


async def _bootstrap(app_settings: Settings) -> tuple[str, str, str]:
    """Do what `tenantwatch serve` does before it listens (migrate, sync the config, first
    admin key); also issue a read-only key for the fuzzer to GET and revoke. Return the
    admin secret, its key id and the read-only key's id."""
    rt = build_runtime(app_settings, CONFIG)
    try:
        await prepare(rt)
        issued = await rt.api_keys.ensure_admin()
        assert issued is not None, "a fresh database has no admin key yet"
        reader = await rt.api_keys.issue(SYSTEM, name="fuzz reader", scopes=[Scope.READ])
    finally:
        await rt.stop()
    return issued.secret, issued.key.id, reader.key.id


def _quiet_logs() -> None:
    """Warning-level, plain-text logs while the server thread runs: no line per request,
    and an unexpected error's traceback as text (the default rich renderer, which walks
    every frame's locals, can crash the process when it runs in a thread)."""
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.format_exc_info,
            structlog.processors.KeyValueRenderer(key_order=["level", "event"]),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(),
        cache_logger_on_first_use=False,
    )


@pytest.fixture(scope="module", params=ENGINES)
def live_api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveApi]:
    """The real app under uvicorn on a free port of 127.0.0.1, on a fresh SQLite file or
    PostgreSQL database, with an admin key, a read-only key and three tenants (one managed
    by the config)."""
    database_url = asyncio.run(create_pg_database()) if request.param == "postgresql" else None
    app_settings = Settings(
        database_url=database_url, data_dir=tmp_path_factory.mktemp("fuzz") / "var"
    )
    saved_logging = structlog.get_config()
    _quiet_logs()
    secret, admin_id, reader_id = asyncio.run(_bootstrap(app_settings))

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))  # the server listens on this very socket: no port race
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(app_settings, build_runtime(app_settings, CONFIG), roles=ALL_ROLES),
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    try:
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start; see the captured output")
            time.sleep(0.02)
        api = LiveApi(f"http://127.0.0.1:{port}", admin_key=secret, admin_key_id=admin_id)
        with api.client(headers=api.auth) as client:
            for tenant_id, tier in (("alpha", "enterprise"), ("bravo", "basic")):
                body = {"id": tenant_id, "name": tenant_id.title(), "tier": tier}
                r = client.post("/api/v1/tenants", json=body)
                assert r.status_code == 201, r.text
            api.openapi = client.get("/openapi.json").raise_for_status().json()
        SEEDED.update(tenant_id=["alpha", "bravo", "gamma"], key_id=[reader_id, admin_id])
        yield api
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
        SEEDED.clear()
        structlog.configure(**saved_logging)
        if database_url is not None:
            asyncio.run(drop_pg_database(database_url))


@pytest.fixture(scope="module")
def api_schema(live_api: LiveApi) -> Iterator[Any]:
    # FastAPI publishes OpenAPI 3.1, which schemathesis 3.x loads only behind this switch
    schemathesis.experimental.OPEN_API_3_1.enable()
    try:
        yield schemathesis.from_uri(f"{live_api.base_url}/openapi.json")
    finally:
        schemathesis.experimental.OPEN_API_3_1.disable()


schema = schemathesis.from_pytest_fixture("api_schema")


@schema.hook
def before_generate_path_parameters(
    context: HookContext, strategy: st.SearchStrategy[dict[str, Any]]
) -> st.SearchStrategy[dict[str, Any]]:
    """Mix the seeded ids into the generated path parameters, so GET, PATCH and DELETE also
    reach real objects: tenants (one config-managed: 409), a read-only key, and the run's
    own admin key, whose revocation the service refuses with 403 (documented; see
    test_the_admin_key_cannot_revoke_itself), so the run keeps its key throughout."""
    path = context.operation.path if context.operation is not None else ""
    seeded = [
        st.fixed_dictionaries({name: st.sampled_from(ids)})
        for name, ids in SEEDED.items()
        if ids and f"{{{name}}}" in path
    ]
    return st.one_of(strategy, *seeded)


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
def test_api_conforms_to_its_openapi(case: Case, live_api: LiveApi) -> None:
    response = case.call(base_url=live_api.base_url, headers=live_api.auth, timeout=10)
    case.validate_response(response, checks=CHECKS)


def _protected(live_api: LiveApi) -> list[tuple[str, str, dict[str, Any]]]:
    ops = [op for op in live_api.operations() if not op[1].startswith(UNAUTHENTICATED)]
    assert len(ops) >= 10, [f"{m} {p}" for m, p, _ in ops]
    return ops


def test_every_protected_operation_documents_401(live_api: LiveApi) -> None:
    undocumented = [
        f"{method} {path}"
        for method, path, operation in _protected(live_api)
        if "401" not in operation.get("responses", {})
    ]
    assert not undocumented, f"these operations do not document 401: {undocumented}"


def test_every_protected_operation_answers_401_without_a_key(live_api: LiveApi) -> None:
    answers = {}
    with live_api.client() as client:
        for method, path, operation in _protected(live_api):
            url = path.replace("{tenant_id}", "alpha").replace("{key_id}", "k_0")
            body: dict[str, Any] | None = {} if "requestBody" in operation else None
            answers[f"{method} {path}"] = client.request(method, url, json=body).status_code
    assert set(answers.values()) == {401}, answers


def test_the_admin_key_cannot_revoke_itself(live_api: LiveApi) -> None:
    """The fuzzer may DELETE the run's own key; the service refuses with a documented 403."""
    revoke = live_api.openapi["paths"]["/api/v1/apikeys/{key_id}"]["delete"]
    assert "403" in revoke["responses"]
    with live_api.client(headers=live_api.auth) as client:
        r = client.delete(f"/api/v1/apikeys/{live_api.admin_key_id}")
        assert r.status_code == 403, r.text
        assert "cannot revoke itself" in r.json()["detail"]
        key = client.get(f"/api/v1/apikeys/{live_api.admin_key_id}")
        assert key.status_code == 200 and key.json()["revoked_at"] is None
