"""Email over SMTP (aiosmtplib): STARTTLS or implicit TLS, AUTH PLAIN/LOGIN, text + HTML parts.

`render_email` renders the Jinja2 templates in ./templates (`<name>.html.j2`,
`<name>.txt.j2`); bind it as build_email's render_email. `send_email` follows
Alertmanager's email notifier: implicit TLS on port 465, otherwise STARTTLS when
require_tls (the default; a server without STARTTLS is then an error), AUTH only when
the server offers it and a user name is set.
"""

# ruff: noqa: ASYNC109  (deliver(request, *, timeout) is the outbox contract)

from __future__ import annotations

import asyncio
import base64
import quopri
import socket
import ssl
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from functools import cache
from typing import Any

import aiosmtplib
import jinja2

from tenantwatch.adapters.notifiers.result import DeliveryResult, failure
from tenantwatch.adapters.ssrf import SsrfError, SsrfPolicy, resolve_checked
from tenantwatch.alertmanager.notify_data import NotifyData
from tenantwatch.alertmanager.notify_payloads import (
    OutboundRequest,
    notify_data_from_payload,
    severity_of,
)


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("tenantwatch.adapters.notifiers", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["utc"] = _utc
    return env


def _utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if ts else ""


def render_email(name: str, data: NotifyData) -> tuple[str, str]:
    """(html, text) of the named template pair for data."""
    env = _environment()
    context: dict[str, Any] = {
        "data": data,
        "severity": severity_of(data),
        "firing": data.firing,
        "resolved": data.resolved,
        "sorted": lambda m: sorted(m.items()),
    }
    html = env.get_template(f"{name}.html.j2").render(context)
    text = env.get_template(f"{name}.txt.j2").render(context)
    return html, text


def with_default_parts(smtp: dict[str, Any]) -> dict[str, Any]:
    """smtp with the parts left to the Jinja2 templates (default_parts) rendered."""
    parts = smtp.get("default_parts") or []
    if not parts:
        return smtp
    data = notify_data_from_payload(smtp["template_data"])
    html, text = render_email(str(smtp.get("template") or "default"), data)
    rendered = {"html": html, "text": text}
    return {**smtp, **{part: rendered[part] or None for part in parts}}


def build_message(smtp: dict[str, Any], *, now: float) -> EmailMessage:
    """The MIME message as Alertmanager writes it: the configured headers, Message-Id,
    Date, and a multipart/alternative body with the text part (if any) before the html
    part (if any), each quoted-printable and exactly as rendered."""
    msg = EmailMessage()
    for name, value in smtp["headers"]:
        msg[name] = value
    if "Message-Id" not in msg:
        msg["Message-Id"] = smtp["message_id"]
    if "Date" not in msg:
        msg["Date"] = format_datetime(datetime.fromtimestamp(now, UTC))
    msg.make_alternative()
    msg["MIME-Version"] = "1.0"
    for subtype, body in (("plain", smtp.get("text")), ("html", smtp.get("html"))):
        if body:
            msg.attach(_part(subtype, str(body)))
    return msg


def _part(subtype: str, body: str) -> EmailMessage:
    part = EmailMessage()
    part["Content-Transfer-Encoding"] = "quoted-printable"
    part["Content-Type"] = f"text/{subtype}; charset=UTF-8"
    part.set_payload(quopri.encodestring(body.encode("utf-8")).decode("ascii"))
    return part


def _tls_context(smtp: dict[str, Any]) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=smtp.get("ca_file") or None)
    if smtp.get("insecure_skip_verify"):
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


async def _authenticate(client: aiosmtplib.SMTP, smtp: dict[str, Any]) -> None:
    user = smtp.get("auth_username") or ""
    if not user or not client.supports_extension("auth"):
        return
    password = smtp.get("auth_password") or ""
    offered = [m.upper() for m in client.esmtp_extensions.get("auth", "").split()]
    for mech in offered:
        if mech == "PLAIN":
            identity = smtp.get("auth_identity") or ""
            token = base64.b64encode(f"{identity}\0{user}\0{password}".encode()).decode("ascii")
            response = await client.execute_command(b"AUTH", b"PLAIN", token.encode("ascii"))
            if response.code != 235:
                raise aiosmtplib.SMTPAuthenticationError(response.code, response.message)
            return
        if mech == "LOGIN":
            await client.auth_login(user, password)
            return
    raise aiosmtplib.SMTPException(
        f"the server offers AUTH {' '.join(offered)} but only PLAIN and LOGIN are supported"
    )


async def send_email(
    request: OutboundRequest,
    *,
    timeout: float,
    policy: SsrfPolicy,
) -> DeliveryResult:
    """Send one email; 4xx replies and connection trouble are retryable, 5xx replies not."""
    started = time.perf_counter()
    smtp = dict(request.smtp or {})
    host, port = str(smtp["host"]), int(smtp["port"])
    where = request.target
    try:
        policy.check_literal(host)
        implicit = port == 465
        ctx = _tls_context(smtp)
        server_name = smtp.get("server_name") or host
        async with asyncio.timeout(timeout):
            # Connect to the checked address ourselves; aiosmtplib then uses `hostname`
            # only as the TLS server name.
            sock = await _connect_checked(host, port, policy)
            client = aiosmtplib.SMTP(
                hostname=server_name,
                sock=sock,
                timeout=timeout,
                use_tls=implicit,
                start_tls=False,
                tls_context=ctx,
                local_hostname=smtp.get("hello") or None,
            )
            await client.connect()
            try:
                await client.ehlo()
                if smtp.get("require_tls", True) and not implicit:
                    if not client.supports_extension("starttls"):
                        return failure(
                            started,
                            f"{where}: require_tls is true but the server does not offer "
                            "STARTTLS; enable it there or set require_tls: false",
                            retryable=True,
                        )
                    await client.starttls(tls_context=ctx, server_hostname=server_name)
                    await client.ehlo()  # the extensions (AUTH) may differ after TLS
                await _authenticate(client, smtp)
                message = build_message(with_default_parts(smtp), now=time.time())
                await client.send_message(message, sender=smtp["from"], recipients=list(smtp["to"]))
            finally:
                client.close()
    except SsrfError as exc:
        return failure(started, f"{where}: {exc}", retryable=False)
    except aiosmtplib.SMTPResponseException as exc:
        return failure(
            started,
            f"{where}: SMTP {exc.code} {exc.message}",
            retryable=400 <= exc.code < 500,
            status_code=exc.code,
        )
    except TimeoutError:
        return failure(started, f"{where}: no answer within {timeout:g}s", retryable=True)
    except (aiosmtplib.SMTPException, OSError, ssl.SSLError) as exc:
        return failure(started, f"{where}: {type(exc).__name__}: {exc}", retryable=True)
    return DeliveryResult(
        ok=True,
        retryable=False,
        status_code=250,
        retry_after_s=None,
        error=None,
        latency_ms=(time.perf_counter() - started) * 1000,
    )


async def _connect_checked(host: str, port: int, policy: SsrfPolicy) -> socket.socket:
    """A connected non-blocking socket to host's first allowed address that answers."""
    loop = asyncio.get_running_loop()
    error: OSError | None = None
    for family, address in await resolve_checked(host, port, policy):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            await loop.sock_connect(sock, (address, port))
            return sock
        except OSError as exc:
            sock.close()
            error = exc
    raise error or OSError(f"cannot connect to {host}:{port}")
