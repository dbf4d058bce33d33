"""Push ingestion: Pushgateway-compatible /metrics/job/... and Prometheus remote-write.

Both need a key with the monitoring:write scope. A tenant-bound key writes only its own
tenant's series: a series without a `tenant` label gets the key's tenant, and one that
names another tenant is refused with 403 (nothing of that request is stored). Pushes by a
tenant-bound key are grouped under its tenant, so two tenants pushing the same job never
replace each other's groups. Malformed bodies answer 400 naming the line and the reason.

Bodies are read up to metrics.limits.max_body_size (web/body_limit.py), then unpacked and
parsed in a parser thread within the other limits (metrics/ingest.py); a request over a
limit stores nothing and is counted in tenantwatch_samples_rejected_total.
"""

from __future__ import annotations

import time
from typing import Any, NoReturn

from fastapi import APIRouter, HTTPException, Request, Response

from tenantwatch.metrics.ingest import Refused, push_families, remote_write_rows
from tenantwatch.metrics.limits import BODY_TOO_LARGE, Rejected
from tenantwatch.metrics.push_groups import PushPathError, parse_push_path
from tenantwatch.metrics.tenancy import TENANT
from tenantwatch.metrics.wiring import MetricsRuntime
from tenantwatch.promql.model import labels_of
from tenantwatch.types import Labels
from tenantwatch.web.body_limit import BodyTooLarge
from tenantwatch.web.deps import RuntimeDep, Writer
from tenantwatch.web.errors import AUTH, ErrorBody, responses

router = APIRouter(tags=["ingestion"])

PUSH_ROUTE = "/metrics/{path:path}"
REMOTE_WRITE_ROUTE = "/api/v1/write"
_PUSH_ENCODINGS = ("", "identity", "gzip", "x-gzip", "deflate")


def _metrics(rt: RuntimeDep) -> MetricsRuntime:
    metrics = rt.metrics
    if metrics is None or not metrics.running:
        raise HTTPException(503, "the metric store is not open yet; retry in a moment")
    return metrics


async def _body(request: Request, metrics: MetricsRuntime) -> bytes:
    """The body as sent, read up to the route's cap (BodyTooLarge, 413, past it)."""
    try:
        return await request.body()
    except BodyTooLarge as exc:
        metrics.rejections.count(Rejected(BODY_TOO_LARGE, str(exc.detail), status=413))
        raise


def _refuse(metrics: MetricsRuntime, exc: Rejected | Refused) -> NoReturn:
    if isinstance(exc, Rejected):
        metrics.rejections.count(exc)
    raise HTTPException(exc.status, str(exc)) from None


def _group_key(path: str, tenant: str | None) -> Labels:
    try:
        key = parse_push_path(path)
    except PushPathError as exc:
        raise HTTPException(400, f"invalid push path: {exc}") from None
    if tenant is None:
        return key
    given = dict(key).get(TENANT)
    if given is not None and given != tenant:
        raise HTTPException(
            403, f"this key may only push to tenant {tenant!r}, not to tenant {given!r}"
        )
    return labels_of({**dict(key), TENANT: tenant})


async def _push(
    request: Request, rt: RuntimeDep, who: Writer, path: str, *, replace: bool
) -> Response:
    metrics = _metrics(rt)
    key = _group_key(path, who.tenant_id)
    encoding = request.headers.get("content-encoding", "")
    if encoding.strip().lower() not in _PUSH_ENCODINGS:
        raise HTTPException(
            415,
            f"Content-Encoding {encoding!r} is not supported; send gzip, deflate or no "
            "Content-Encoding",
        )
    body = await _body(request, metrics)
    try:
        families = await metrics.parse(
            push_families,
            body,
            encoding=encoding,
            content_type=request.headers.get("content-type", ""),
            key=key,
            tenant=who.tenant_id,
            limits=metrics.limits,
        )
        del body
        await metrics.push.push(key, families, replace_all=replace)
    except (Rejected, Refused) as exc:
        _refuse(metrics, exc)
    except ValueError as exc:  # a series the store refuses; nothing was stored
        raise HTTPException(400, f"cannot store the push: {exc}") from None
    return Response(status_code=200)


_PUSH_DOC = (
    "Pushgateway-compatible push: the path is `job/<job>{/<label>/<value>}` (a name ending in "
    "`@base64` takes a URL-safe base64 value). The body is the Prometheus text format (or "
    "OpenMetrics by Content-Type), optionally gzip- or deflate-compressed; samples must not carry "
    "timestamps. Pushed values stay current (re-written every scrape interval) until the "
    "group is deleted or replaced."
)


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


Responses = dict[int | str, dict[str, Any]]
_TOO_LARGE: Responses = {413: _error("The body, unpacked body, lines or series are too many")}
_NOT_OPEN: Responses = {503: _error("The metric store is not open yet")}
# the router's path pattern does not match control characters such as a newline
_NO_ROUTE: Responses = {404: _error("Not a push path")}
_PUSH_RESPONSES: Responses = {
    200: {"description": "Stored durably", "content": {}},
    **AUTH,
    **responses(400),
    **_NO_ROUTE,
    **_TOO_LARGE,
    415: _error("The protobuf push format, or the Content-Encoding, is not supported"),
    **_NOT_OPEN,
}
_PUSH_BODY = {
    "requestBody": {
        "description": "Metrics in the Prometheus text format (or OpenMetrics)",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }
}


@router.put(
    PUSH_ROUTE,
    summary="Replace a push group (Pushgateway PUT)",
    description=_PUSH_DOC,
    response_class=Response,
    responses=_PUSH_RESPONSES,
    openapi_extra=_PUSH_BODY,
)
async def push_replace(request: Request, rt: RuntimeDep, who: Writer, path: str) -> Response:
    return await _push(request, rt, who, path, replace=True)


@router.post(
    PUSH_ROUTE,
    summary="Replace same-named metrics of a push group (Pushgateway POST)",
    description=_PUSH_DOC,
    response_class=Response,
    responses=_PUSH_RESPONSES,
    openapi_extra=_PUSH_BODY,
)
async def push_add(request: Request, rt: RuntimeDep, who: Writer, path: str) -> Response:
    return await _push(request, rt, who, path, replace=False)


@router.delete(
    PUSH_ROUTE,
    status_code=202,
    summary="Delete a push group (Pushgateway DELETE)",
    description="Removes the group; its series get stale markers and end at once.",
    response_class=Response,
    responses={
        202: {"description": "Deleted (or there was no such group)", "content": {}},
        **AUTH,
        **responses(400),
        **_NO_ROUTE,
        **_NOT_OPEN,
    },
)
async def push_delete(rt: RuntimeDep, who: Writer, path: str) -> Response:
    metrics = _metrics(rt)
    key = _group_key(path, who.tenant_id)
    await metrics.push.delete(key)
    return Response(status_code=202)


# -- remote write ------------------------------------------------------------------------


def _check_remote_write_headers(request: Request) -> None:
    content_type = request.headers.get("content-type", "").lower()
    media, _, params = content_type.partition(";")
    if media.strip() not in ("", "application/x-protobuf"):
        raise HTTPException(
            415, f"Content-Type {content_type!r} is not supported; send application/x-protobuf"
        )
    proto = params.replace(" ", "").partition("proto=")[2].split(";")[0]
    if proto and proto != "prometheus.WriteRequest".lower():
        raise HTTPException(
            415,
            f"remote-write message {proto!r} is not supported; send remote-write 1.0 "
            "(prometheus.WriteRequest)",
        )
    encoding = request.headers.get("content-encoding", "").lower()
    if encoding not in ("", "snappy"):
        raise HTTPException(
            415, f"Content-Encoding {encoding!r} is not supported; remote-write bodies are snappy"
        )


@router.post(
    REMOTE_WRITE_ROUTE,
    status_code=204,
    summary="Prometheus remote-write receiver (1.0: snappy-compressed protobuf)",
    description="Samples are durable before the 204. A tenant-bound key may write only its "
    "own tenant's series (a missing tenant label is set to its tenant). As Prometheus' own "
    "receiver, a request with one bad sample (too far in the future, older than the "
    "retention, another value at a stored timestamp) or over a limit (series of the tenant, "
    "labels) is refused whole with 400 and the reason.",
    response_class=Response,
    responses={
        204: {"description": "Stored durably"},
        **AUTH,
        **responses(400),
        **_TOO_LARGE,
        415: _error("Not remote-write 1.0 (snappy-compressed protobuf)"),
        **_NOT_OPEN,
    },
)
async def remote_write(request: Request, rt: RuntimeDep, who: Writer) -> Response:
    metrics = _metrics(rt)
    _check_remote_write_headers(request)
    body = await _body(request, metrics)
    try:
        samples = await metrics.parse(
            remote_write_rows,
            body,
            tenant=who.tenant_id,
            limits=metrics.limits,
            now_ms=round(time.time() * 1000),
            retention_ms=metrics.retention,
            shortest_retention_ms=metrics.retention.shortest_ms,
        )
        del body
        if samples:
            await metrics.remote_write(samples)
    except (Rejected, Refused) as exc:
        _refuse(metrics, exc)
    except ValueError as exc:  # a label set the store refuses; nothing was stored
        raise HTTPException(400, f"malformed remote-write request: {exc}") from None
    return Response(status_code=204)
