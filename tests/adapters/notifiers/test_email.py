"""Email through a loopback aiosmtpd server with STARTTLS and AUTH."""

from __future__ import annotations

import email
import email.policy
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tenantwatch.adapters.notifiers import Notifiers
from tenantwatch.adapters.notifiers.email import render_email
from tenantwatch.alertmanager.notify_payloads import build_email
from tests.alertmanager.test_notify_payloads import alert, go_render, group
from tests.support import free_port


@dataclass
class Mailbox:
    messages: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    logins: list[tuple[str, bytes, bytes]] = field(default_factory=list)
    port: int = 0
    offered: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            (envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
        )
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append((mechanism, data.login, data.password))
        ok = data.login == b"alerts" and data.password == b"secret"
        return AuthResult(success=ok, handled=False)


def content(part: Any) -> str:
    """A part's decoded text with SMTP's CRLF line ends read as newlines."""
    return str(part.get_content()).replace("\r\n", "\n")


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def _server(
    ca: trustme.CA, *, starttls: bool = True, exclude: tuple[str, ...] = ()
) -> tuple[Mailbox, Controller]:
    box = Mailbox(port=free_port())
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(ctx)
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=box.port,
        tls_context=ctx if starttls else None,
        require_starttls=starttls,
        authenticator=box.authenticate,
        auth_require_tls=starttls,
        auth_exclude_mechanism=exclude,
    )
    controller.start()
    box.offered = [m for m in ("LOGIN", "PLAIN") if m not in exclude]
    return box, controller


@pytest.fixture
def smtp_server(ca: trustme.CA) -> Iterator[Mailbox]:
    box, controller = _server(ca)
    try:
        yield box
    finally:
        controller.stop()


def _settings(box: Mailbox, **extra: Any) -> dict[str, Any]:
    return {
        "to": "ops-team@ai-shifu.com",
        "from": "alerts@ai-shifu.com",
        "smarthost": f"127.0.0.1:{box.port}",
        "auth_username": "alerts",
        "auth_password": "secret",
        **extra,
    }


@pytest.fixture(params=["LOGIN", "PLAIN"])
def one_mechanism_server(request: pytest.FixtureRequest, ca: trustme.CA) -> Iterator[Mailbox]:
    other = "PLAIN" if request.param == "LOGIN" else "LOGIN"
    box, controller = _server(ca, exclude=(other,))
    try:
        yield box
    finally:
        controller.stop()


async def test_starttls_auth_and_both_parts(
    one_mechanism_server: Mailbox, ca_file: str, notifiers: Notifiers
) -> None:
    smtp_server = one_mechanism_server
    data = group(alert(summary="HighLatency on acme", description="p99 > 2s <b>"))
    settings = _settings(
        smtp_server,
        subject="[AI-Shifu] {{ .GroupLabels.alertname }}",
        body="{{ range .Alerts }}Alert: {{ .Annotations.summary }}\n{{ end }}",
        tls_config={"ca_file": ca_file},
        layout="tenantwatch",
    )
    req = build_email(
        settings, data, go_render(data), idempotency_key="k1", render_email=render_email
    )
    result = await notifiers.deliver(req, timeout=10)
    assert result.ok, result.error
    [(mail_from, rcpt, raw)] = smtp_server.messages
    assert (mail_from, rcpt) == ("alerts@ai-shifu.com", ["ops-team@ai-shifu.com"])
    [(mechanism, login, password)] = smtp_server.logins
    assert (login, password) == (b"alerts", b"secret")
    assert smtp_server.offered == [mechanism]
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Subject"] == "[AI-Shifu] HighLatency"
    assert msg["From"] == "alerts@ai-shifu.com" and msg["To"] == "ops-team@ai-shifu.com"
    assert msg["Message-Id"] == (req.smtp or {})["message_id"]
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None and html is not None
    assert content(text) == "Alert: HighLatency on acme\n"
    expected_html, _ = render_email("default", data)
    assert content(html) == expected_html
    assert "p99 &gt; 2s &lt;b&gt;" in expected_html  # the html template escapes


async def test_the_sender_renders_the_jinja_defaults(
    smtp_server: Mailbox, ca_file: str, notifiers: Notifiers
) -> None:
    data = group(
        alert(), alert(tenant="acme", status="resolved", summary="old", description="gone")
    )
    settings = _settings(
        smtp_server, subject="s", tls_config={"ca_file": ca_file}, layout="tenantwatch"
    )
    req = build_email(settings, data, go_render(data), idempotency_key="k")
    assert (await notifiers.deliver(req, timeout=10)).ok
    msg = email.message_from_bytes(smtp_server.messages[0][2], policy=email.policy.default)
    text = msg.get_body(("plain",))
    assert text is not None
    assert content(text) == (
        "[FIRING:1] HighLatency acme\n"
        "\n"
        "Severity: CRITICAL\n"
        "\n"
        "Firing (1):\n"
        "- HighLatency on acme\n"
        "  p99 > 2s\n"
        "  Labels: alertname=HighLatency, severity=critical, tenant=acme\n"
        "  Started: 2023-11-14 22:13:20 UTC\n"
        "  Source: http://prom.example/graph?g0.expr=up\n"
        "\n"
        "Resolved (1):\n"
        "- old\n"
        "  gone\n"
        "  Labels: alertname=HighLatency, severity=critical, tenant=acme\n"
        "  Started: 2023-11-14 22:13:20 UTC\n"
        "  Ended: 2023-11-14 22:23:20 UTC\n"
        "  Source: http://prom.example/graph?g0.expr=up\n"
        "\n"
        "http://tw.example:8000\n"
        "-- \n"
        "Sent by tenantwatch\n"
    )


async def test_insecure_skip_verify_accepts_an_unknown_ca(
    smtp_server: Mailbox, notifiers: Notifiers
) -> None:
    data = group(alert())
    settings = _settings(smtp_server, text="t", html="", tls_config={"insecure_skip_verify": True})
    req = build_email(settings, data, go_render(data), idempotency_key="k")
    assert (await notifiers.deliver(req, timeout=10)).ok
    msg = email.message_from_bytes(smtp_server.messages[0][2], policy=email.policy.default)
    assert msg.get_content_type() == "multipart/alternative"
    [part] = msg.iter_parts()
    assert part.get_content_type() == "text/plain" and content(part) == "t"


async def test_an_unknown_ca_fails_verification(smtp_server: Mailbox, notifiers: Notifiers) -> None:
    data = group(alert())
    req = build_email(
        _settings(smtp_server, text="t"),
        data,
        go_render(data),
        idempotency_key="k",
        render_email=render_email,
    )
    result = await notifiers.deliver(req, timeout=10)
    assert not result.ok and result.retryable
    assert "CERTIFICATE_VERIFY_FAILED" in (result.error or "")
    assert smtp_server.messages == []


async def test_a_wrong_password_is_not_retried(
    smtp_server: Mailbox, ca_file: str, notifiers: Notifiers
) -> None:
    data = group(alert())
    settings = _settings(
        smtp_server, text="t", auth_password="nope", tls_config={"ca_file": ca_file}
    )
    req = build_email(
        settings, data, go_render(data), idempotency_key="k", render_email=render_email
    )
    result = await notifiers.deliver(req, timeout=10)
    assert (result.ok, result.retryable, result.status_code) == (False, False, 535), result.error
    assert smtp_server.messages == []


async def test_require_tls_without_starttls_is_an_error(
    ca: trustme.CA, notifiers: Notifiers
) -> None:
    box, controller = _server(ca, starttls=False)
    try:
        data = group(alert())
        req = build_email(
            _settings(box, text="t", auth_username=""),
            data,
            go_render(data),
            idempotency_key="k",
            render_email=render_email,
        )
        result = await notifiers.deliver(req, timeout=10)
        assert not result.ok and "does not offer STARTTLS" in (result.error or "")
        plain = build_email(
            _settings(box, text="t", auth_username="", require_tls=False),
            data,
            go_render(data),
            idempotency_key="k",
            render_email=render_email,
        )
        assert (await notifiers.deliver(plain, timeout=10)).ok
        assert len(box.messages) == 1
    finally:
        controller.stop()


async def test_a_loopback_smarthost_needs_the_allow_list(smtp_server: Mailbox) -> None:
    data = group(alert())
    req = build_email(
        _settings(smtp_server, text="t"),
        data,
        go_render(data),
        idempotency_key="k",
        render_email=render_email,
    )
    strict = Notifiers()
    result = await strict.deliver(req, timeout=5)
    assert not result.ok and not result.retryable and "allow_private" in (result.error or "")
    assert smtp_server.messages == []


async def test_port_465_speaks_implicit_tls(ca: trustme.CA, ca_file: str) -> None:
    # Alertmanager uses TLS from the first byte on port 465 (no STARTTLS); 465 is free on
    # 127.0.0.2, a loopback address the other tests do not use
    box = Mailbox(port=465)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.2").configure_cert(ctx)
    controller = Controller(
        box,
        hostname="127.0.0.2",
        port=465,
        ssl_context=ctx,
        authenticator=box.authenticate,
        auth_require_tls=False,
    )
    try:
        controller.start()
    except (OSError, PermissionError) as exc:
        pytest.skip(f"cannot listen on 127.0.0.2:465 here: {exc}")
    notifiers = Notifiers(allow_private=["127.0.0.2"])
    try:
        data = group(alert())
        settings = {
            **_settings(box, text="over TLS", html=""),
            "smarthost": "127.0.0.2:465",
            "tls_config": {"ca_file": ca_file},
        }
        req = build_email(settings, data, go_render(data), idempotency_key="k")
        result = await notifiers.deliver(req, timeout=10)
        assert result.ok, result.error
        [(_, rcpt, raw)] = box.messages
        assert rcpt == ["ops-team@ai-shifu.com"]
        assert [(login, pw) for _, login, pw in box.logins] == [(b"alerts", b"secret")]
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        text = msg.get_body(("plain",))
        assert text is not None and content(text) == "over TLS"
    finally:
        await notifiers.close()
        controller.stop()
