"""Push ingestion: Pushgateway-compatible /metrics/job/... and Prometheus remote-write.

Both need a key with the monitoring:write scope. A tenant-bound key writes only its own
tenant's series: a series without a `tenant` label gets the key's tenant, and one that
names another tenant is refused with 403 (nothing of that request is stored). Pushes by a
tenant-bound key are grouped under its tenant, so two tenants pushing the same job never
replace each other's groups. Malformed bodies answer 400 naming the line and the reason.
"""

from __future__ import annotations

import zlib
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response

from tenantwatch.metrics.exposition import (
    ExpositionError,
    decode_exposition,
    is_openmetrics,
    metric_types,
    parse_text,
)
from tenantwatch.metrics.push_groups import (
    PushPathError,
    build_families,
    parse_push_path,
)
from tenantwatch.metrics.remote_write import RemoteWriteError, decode_write_request
from tenantwatch.metrics.tenancy import TENANT, ForeignTenant, bind_tenant
from tenantwatch.metrics.wiring import MetricsRuntime
from tenantwatch.promql.model import Labels, labels_of
from tenantwatch.web.deps import RuntimeDep, Writer
from tenantwatch.web.errors import AUTH, ErrorBody, responses

router = APIRouter(tags=["ingestion"])

MAX_BODY = 64 << 20
_PROTOBUF = "application/vnd.google.protobuf"


def _metrics(rt: RuntimeDep) -> MetricsRuntime:
    metrics = rt.metrics
    if metrics is None or not metrics.running:
        raise HTTPException(503, "the metric store is not open yet; retry in a moment")
    return metrics


async def _body(request: Request) -> bytes:
    """The request body, gunzipped when sent with Content-Encoding: gzip; 413 when huge."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_BODY:
        raise HTTPException(413, f"the body is larger than {MAX_BODY >> 20} MiB; send less at once")
    body = await request.body()
    if len(body) > MAX_BODY:
        raise HTTPException(413, f"the body is larger than {MAX_BODY >> 20} MiB; send less at once")
    if request.headers.get("content-encoding", "").lower() == "gzip":
        try:
            out = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(body, MAX_BODY + 1)
        except zlib.error as exc:
            raise HTTPException(400, f"the body is not valid gzip: {exc}") from None
        if len(out) > MAX_BODY:
            raise HTTPException(413, f"the unpacked body is larger than {MAX_BODY >> 20} MiB")
        return out
    return body


def _sample_lines(text: str) -> list[int]:
    """The line numbers of the sample lines, in order."""
    return [
        i
        for i, line in enumerate(text.split("\n"), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]


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


def _parse_push(text: str, content_type: str, tenant: str | None) -> list[tuple[Labels, float]]:
    if content_type.split(";")[0].strip().lower() == _PROTOBUF:
        raise HTTPException(
            415, "the protobuf push format is not supported; push the text format instead"
        )
    try:
        samples = parse_text(text, openmetrics=is_openmetrics(content_type))
    except ExpositionError as exc:
        raise HTTPException(400, str(exc)) from None
    lines: list[int] | None = None
    out = []
    for i, sample in enumerate(samples):
        if sample.timestamp_ms is not None:
            lines = lines or _sample_lines(text)
            where = f"line {lines[i]}" if len(lines) == len(samples) else f"sample {i + 1}"
            raise HTTPException(
                400,
                f"{where}: pushed metrics must not carry timestamps (the push time is used, "
                "as in the Pushgateway); remove the timestamp",
            )
        try:
            labels = bind_tenant(sample.labels, tenant)
        except ForeignTenant as exc:
            raise HTTPException(403, str(exc)) from None
        out.append((labels, sample.value))
    return out


async def _push(
    request: Request, rt: RuntimeDep, who: Writer, path: str, *, replace: bool
) -> Response:
    metrics = _metrics(rt)
    key = _group_key(path, who.tenant_id)
    try:
        text = decode_exposition(await _body(request))
    except ExpositionError as exc:
        raise HTTPException(400, str(exc)) from None
    samples = _parse_push(text, request.headers.get("content-type", ""), who.tenant_id)
    families = build_families(key, samples, metric_types(text))
    try:
        await metrics.push.push(key, families, replace_all=replace)
    except ValueError as exc:  # a series the store refuses; nothing was stored
        raise HTTPException(400, f"cannot store the push: {exc}") from None
    return Response(status_code=200)


_PUSH_DOC = (
    "Pushgateway-compatible push: the path is `job/<job>{/<label>/<value>}` (a name ending in "
    "`@base64` takes a URL-safe base64 value). The body is the Prometheus text format (or "
    "OpenMetrics by Content-Type), optionally gzip-compressed; samples must not carry "
    "timestamps. Pushed values stay current (re-written every scrape interval) until the "
    "group is deleted or replaced."
)


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


Responses = dict[int | str, dict[str, Any]]
_TOO_LARGE: Responses = {413: _error("The body is too large")}
_NOT_OPEN: Responses = {503: _error("The metric store is not open yet")}
# the router's path pattern does not match control characters such as a newline
_NO_ROUTE: Responses = {404: _error("Not a push path")}
_PUSH_RESPONSES: Responses = {
    200: {"description": "Stored durably", "content": {}},
    **AUTH,
    **responses(400),
    **_NO_ROUTE,
    **_TOO_LARGE,
    415: _error("The protobuf push format is not supported"),
    **_NOT_OPEN,
}
_PUSH_BODY = {
    "requestBody": {
        "description": "Metrics in the Prometheus text format (or OpenMetrics)",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }
}


@router.put(
    "/metrics/{path:path}",
    summary="Replace a push group (Pushgateway PUT)",
    description=_PUSH_DOC,
    response_class=Response,
    responses=_PUSH_RESPONSES,
    openapi_extra=_PUSH_BODY,
)
async def push_replace(request: Request, rt: RuntimeDep, who: Writer, path: str) -> Response:
    return await _push(request, rt, who, path, replace=True)


@router.post(
    "/metrics/{path:path}",
    summary="Replace same-named metrics of a push group (Pushgateway POST)",
    description=_PUSH_DOC,
    response_class=Response,
    responses=_PUSH_RESPONSES,
    openapi_extra=_PUSH_BODY,
)
async def push_add(request: Request, rt: RuntimeDep, who: Writer, path: str) -> Response:
    return await _push(request, rt, who, path, replace=False)


@router.delete(
    "/metrics/{path:path}",
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
    "/api/v1/write",
    status_code=204,
    summary="Prometheus remote-write receiver (1.0: snappy-compressed protobuf)",
    description="Samples are durable before the 204. A tenant-bound key may write only its "
    "own tenant's series (a missing tenant label is set to its tenant).",
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
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_BODY:
        raise HTTPException(413, f"the body is larger than {MAX_BODY >> 20} MiB; send less at once")
    body = await request.body()
    try:
        series = decode_write_request(body)
    except RemoteWriteError as exc:
        raise HTTPException(400, f"malformed remote-write request: {exc}") from None
    samples: list[tuple[Labels, int, float]] = []
    try:
        for ts in series:
            labels = bind_tenant(ts.labels, who.tenant_id)
            samples.extend((labels, t, v) for t, v in ts.samples)
    except ForeignTenant as exc:
        raise HTTPException(403, str(exc)) from None
    if samples:
        try:
            await metrics.write(samples)
        except ValueError as exc:  # a label set the store refuses; nothing was stored
            raise HTTPException(400, f"malformed remote-write request: {exc}") from None
    return Response(status_code=204)
