"""Error answers: one JSON shape, documented on every route, and never a bare 500."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from tenantwatch.services.errors import Conflict, Forbidden, Invalid, NotFound, ServiceError
from tenantwatch.web.schemas import NO_NUL

log = structlog.get_logger("tenantwatch.web")
_QUERY_FIELDS = frozenset({"cursor", "limit", "period", "date", "start_date", "end_date"})


class ErrorBody(BaseModel):
    detail: str


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """Return the OpenAPI description of the error answers a route can give."""
    text = {
        400: "Bad request",
        401: "Missing, unknown or revoked API key",
        403: "The key lacks the scope this needs",
        404: "Not found (or belongs to another tenant)",
        409: "Conflicts with the current state",
        503: "Not ready",
    }
    return {code: {"model": ErrorBody, "description": text[code]} for code in codes}


AUTH = responses(401, 403)


def _validation_body(message: str, loc: list[str | int]) -> dict[str, Any]:
    return {"detail": [{"loc": loc, "msg": message, "type": "value_error"}]}


async def _service_error(request: Request, exc: Exception) -> JSONResponse:
    del request
    if isinstance(exc, Invalid):
        where = "query" if exc.field in _QUERY_FIELDS else "body"
        loc: list[str | int] = [where, exc.field] if exc.field else [where]
        return JSONResponse(_validation_body(str(exc), loc), status_code=422)
    status = 400
    for kind, code in ((NotFound, 404), (Conflict, 409), (Forbidden, 403)):
        if isinstance(exc, kind):
            status = code
    return JSONResponse({"detail": str(exc)}, status_code=status)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    del request
    assert isinstance(exc, StarletteHTTPException)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    del request
    assert isinstance(exc, RequestValidationError)
    errors = []
    for err in exc.errors():
        item = {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type")}
        if err.get("type") == "json_invalid":
            item["msg"] = "request body is not valid JSON: " + str(
                err.get("ctx", {}).get("error", "")
            )
        elif err.get("type") == "value_error":
            # our own validators' sentences, without pydantic's "Value error, " in front
            item["msg"] = str(err.get("ctx", {}).get("error", item["msg"]))
        elif err.get("type") == "string_pattern_mismatch" and (
            err.get("ctx", {}).get("pattern") == NO_NUL
        ):
            item["msg"] = "must not contain the NUL character (\\u0000)"
        errors.append(item)
    return JSONResponse({"detail": errors}, status_code=422)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", path=request.url.path, error=type(exc).__name__)
    rid = request.scope.get("state", {}).get("request_id")
    return JSONResponse(
        {"detail": f"internal error; quote request id {rid} when reporting it"},
        status_code=500,
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
