"""OpenAPI description of the Prometheus query API: answer models and parameters.

The routes read their parameters from the URL or a form body themselves (as Prometheus
does), so FastAPI cannot infer them; these describe them for /openapi.json.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field

# -- documentation models ----------------------------------------------------------------
T = TypeVar("T")
Point = tuple[float, str]


class Success(BaseModel, Generic[T]):
    status: Literal["success"]
    data: T
    warnings: list[str] | None = None
    infos: list[str] | None = None


class PromError(BaseModel):
    status: Literal["error"]
    errorType: str = Field(examples=["bad_data"])
    error: str


class VectorSample(BaseModel):
    metric: dict[str, str]
    value: Point


class MatrixSeries(BaseModel):
    metric: dict[str, str]
    values: list[Point]


class QueryData(BaseModel):
    resultType: Literal["vector", "matrix", "scalar", "string"]
    result: list[VectorSample] | list[MatrixSeries] | Point


class BuildInfo(BaseModel):
    version: str
    revision: str
    branch: str
    buildUser: str
    buildDate: str
    goVersion: str
    application: str


class RuntimeInfo(BaseModel):
    startTime: str
    CWD: str
    hostname: str
    serverTime: str
    reloadConfigSuccess: bool
    lastConfigTime: str
    corruptionCount: int
    goroutineCount: int
    GOMAXPROCS: int
    GOMEMLIMIT: int
    GOGC: str
    GODEBUG: str
    storageRetention: str


class MetricMetadata(BaseModel):
    type: str
    help: str
    unit: str


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": PromError, "description": "bad_data: a parameter is malformed"},
    422: {"model": PromError, "description": "execution: the query failed while running"},
    500: {"model": PromError, "description": "internal: a bug; quote the request id"},
    503: {"model": PromError, "description": "timeout or canceled"},
}


# -- parameters ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Param:
    description: str
    repeated: bool = False
    pattern: str | None = None


PARAMS: dict[str, Param] = {
    "query": Param("PromQL expression"),
    "time": Param("evaluation time: RFC3339 or unix seconds (default: now)"),
    "start": Param("start: RFC3339 or unix seconds"),
    "end": Param("end: RFC3339 or unix seconds"),
    "step": Param("resolution: seconds (15) or a duration (15s)"),
    # fractions and milliseconds are accepted too; the documented form keeps generated
    # requests (and Grafana's "60s") from asking for a timeout no query can meet
    "timeout": Param(
        "evaluation timeout: whole seconds or a duration such as 30s (default and cap: 2m)",
        pattern=r"^[1-9][0-9]*[smh]?$",
    ),
    "limit": Param("keep at most this many series or names (0: all)"),
    "lookback_delta": Param("how far back an instant selector looks (default 5m)"),
    "stats": Param("accepted and ignored"),
    "match[]": Param('series selector, e.g. up{job="api"}; repeat for several', repeated=True),
    "metric": Param("only this metric's metadata"),
    "limit_per_metric": Param("accepted and ignored"),
}


def parameters(method: str, names: Sequence[str], required: Sequence[str]) -> dict[str, Any]:
    """OpenAPI for parameters read from the URL (GET) or a form body (POST)."""
    schemas: dict[str, Any] = {}
    for name in names:
        param = PARAMS[name]
        schema: dict[str, Any] = {"type": "string"}
        if param.pattern:
            schema["pattern"] = param.pattern
        if param.repeated:
            schema = {"type": "array", "items": schema}
        schemas[name] = {**schema, "description": param.description}
    if method == "GET":
        return {
            "parameters": [
                {
                    "name": name,
                    "in": "query",
                    "required": name in required,
                    "description": schemas[name].pop("description"),
                    "schema": schemas[name],
                    **({"style": "form", "explode": True} if PARAMS[name].repeated else {}),
                }
                for name in names
            ]
        }
    form: dict[str, Any] = {"type": "object", "properties": schemas}
    if required:
        form["required"] = list(required)
    return {
        "requestBody": {
            "required": bool(required),
            "content": {"application/x-www-form-urlencoded": {"schema": form}},
        }
    }
