"""/docs (Swagger UI) and /redoc (ReDoc) with their files served by tenantwatch, not a CDN.

The files come from the fastapi-offline package, which ships Swagger UI's and ReDoc's
bundles; only its static directory is used, the pages are FastAPI's own.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/assets/api-docs"
DOCS = "/docs"
REDOC = "/redoc"

router = APIRouter(include_in_schema=False)


def assets_dir() -> Path:
    """The directory holding swagger-ui-bundle.js, swagger-ui.css, redoc.standalone.js."""
    return Path(str(resources.files("fastapi_offline") / "static"))


def _openapi_url(request: Request) -> str:
    return f"{request.scope.get('root_path', '')}{request.app.openapi_url}"


def _asset(request: Request, name: str) -> str:
    return f"{request.scope.get('root_path', '')}{ASSETS}/{name}"


@router.get(DOCS, response_class=HTMLResponse)
async def swagger_ui(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=_openapi_url(request),
        title=f"{request.app.title} API (Swagger UI)",
        swagger_js_url=_asset(request, "swagger-ui-bundle.js"),
        swagger_css_url=_asset(request, "swagger-ui.css"),
        swagger_favicon_url=_asset(request, "favicon.png"),
        # Swagger UI would otherwise ask validator.swagger.io about the document
        swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": True},
    )


@router.get(REDOC, response_class=HTMLResponse)
async def redoc(request: Request) -> HTMLResponse:
    return get_redoc_html(
        openapi_url=_openapi_url(request),
        title=f"{request.app.title} API (ReDoc)",
        redoc_js_url=_asset(request, "redoc.standalone.js"),
        redoc_favicon_url=_asset(request, "favicon.png"),
        with_google_fonts=False,
    )


def install(app: FastAPI) -> None:
    """Serve the pages and their files. The app must be built with docs_url=None and
    redoc_url=None, so FastAPI's CDN pages are not registered as well."""
    app.mount(ASSETS, StaticFiles(directory=assets_dir()), name="api-docs-assets")
    app.include_router(router)
