"""Credentials and TLS for outgoing metric requests, including HTTPS scrapes on loopback."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from tenantwatch.configuration import parse_config
from tenantwatch.metrics.http_auth import (
    CredentialsError,
    HttpAuth,
    TlsSettings,
    auth_from_config,
    authorization_header,
    ssl_context,
)
from tenantwatch.metrics.scrape import ScrapeLoop
from tenantwatch.metrics.scrape_labels import target_labels
from tenantwatch.metrics.scrape_targets import ScrapeTarget
from tenantwatch.metrics.store import MetricStore
from tenantwatch.promql.model import Matcher


def test_basic_auth_is_user_colon_password_in_base64() -> None:
    assert authorization_header(HttpAuth("Basic", username="a", secret="b")) == "Basic YTpi"


def test_a_custom_authorization_type_is_kept() -> None:
    assert authorization_header(HttpAuth("Token", secret="xyz")) == "Token xyz"


def test_no_auth_gives_no_header() -> None:
    assert authorization_header(None) is None


def test_a_secret_file_is_read_and_trimmed(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("hunter2\n")
    auth = HttpAuth("Basic", username="u", secret_file=tmp_path / "pw")
    assert authorization_header(auth) == "Basic dTpodW50ZXIy"


def test_an_unreadable_secret_file_names_the_file_not_the_secret(tmp_path: Path) -> None:
    with pytest.raises(CredentialsError, match=r"cannot read credentials file .*missing"):
        authorization_header(HttpAuth("Bearer", secret_file=tmp_path / "missing"))


def test_the_repr_of_credentials_hides_the_secret() -> None:
    assert "s3cret" not in repr(HttpAuth("Bearer", secret="s3cret"))


def test_config_sections_become_credentials() -> None:
    config = parse_config(
        "scrape_configs:\n"
        "  - job_name: a\n    basic_auth: {username: u, password: p}\n"
        "  - job_name: b\n    bearer_token: t\n"
        "  - job_name: c\n    authorization: {type: Token, credentials_file: /run/tok}\n"
        "  - job_name: d\n",
        "tw.yml",
        {},
    )
    a, b, c, d = (auth_from_config(job) for job in config.scrape_configs)
    assert a == HttpAuth("Basic", username="u", secret="p")
    assert b == HttpAuth("Bearer", secret="t")
    assert c == HttpAuth("Token", secret_file=Path("/run/tok"))
    assert d is None


def test_a_missing_ca_file_is_a_credentials_error(tmp_path: Path) -> None:
    with pytest.raises(CredentialsError, match="cannot load TLS files"):
        ssl_context(TlsSettings(ca_file=tmp_path / "nope.pem"))


# --- HTTPS scrapes ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for the name tw-test.local (made by openssl)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=tw-test.local",
            "-addext", "subjectAltName=DNS:tw-test.local",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    return cert, key


@pytest.fixture
async def https_exporter(certificate: tuple[Path, Path]) -> AsyncIterator[str]:
    async def metrics(request: web.Request) -> web.Response:
        return web.Response(text="secure_metric 1\n")

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(certificate[0]), str(certificate[1]))
    app = web.Application()
    app.router.add_get("/metrics", metrics)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"127.0.0.1:{port}"
    await runner.cleanup()


async def scrape_https(address: str, tls: TlsSettings) -> tuple[bool, str | None, MetricStore]:
    store = MetricStore(None)
    store.open()
    target = ScrapeTarget(
        job="secure",
        address=address,
        url=f"https://{address}/metrics",
        labels=target_labels("secure", address, {}),
        interval_s=15,
        timeout_s=5,
        tls=tls,
    )
    async with aiohttp.ClientSession() as session:
        report = await ScrapeLoop(target, store, session).scrape_once()
    return report.up, report.error, store


async def test_https_with_the_ca_file_and_server_name_verifies(
    https_exporter: str, certificate: tuple[Path, Path]
) -> None:
    up, error, store = await scrape_https(
        https_exporter, TlsSettings(ca_file=certificate[0], server_name="tw-test.local")
    )
    assert up, error
    assert store.select([Matcher.of("__name__", "=", "secure_metric")], 0, 2**62)


async def test_https_with_an_unknown_certificate_fails_the_scrape(https_exporter: str) -> None:
    up, error, _ = await scrape_https(https_exporter, TlsSettings())
    assert not up
    assert error is not None and "certificate" in error.lower()


async def test_insecure_skip_verify_accepts_any_certificate(https_exporter: str) -> None:
    up, error, _ = await scrape_https(https_exporter, TlsSettings(insecure_skip_verify=True))
    assert up, error
