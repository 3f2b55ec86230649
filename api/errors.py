"""The one place domain errors become HTTP: RFC 9457 problem+json with a stable `type`."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from factordb import errors
from factordb.db import translate_db_error

PROBLEM = "application/problem+json"
TYPE_BASE = "/problems/"
log = logging.getLogger("factordb.api")

STATUS: list[tuple[type[errors.FactordbError], int, str, str]] = [
    (errors.AuthenticationFailed, 401, "unauthenticated", "Authentication required"),
    (errors.PermissionDenied, 403, "forbidden", "Not allowed"),
    (errors.NotFound, 404, "not-found", "Not found"),
    (errors.Conflict, 409, "conflict", "Conflict"),
    (errors.InvalidTransition, 409, "invalid-transition", "Invalid status transition"),
    (errors.Immutable, 409, "immutable", "Immutable resource"),
    (errors.ValidationFailed, 422, "validation-failed", "Validation failed"),
    (errors.DatabaseUnavailable, 503, "database-unavailable", "Database unavailable"),
]


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    *,
    errors_list: list[dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors_list:
        body["errors"] = errors_list
    body.update(extra or {})
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def classify(exc: errors.FactordbError) -> tuple[int, str, str]:
    for cls, status, slug, title in STATUS:
        if isinstance(exc, cls):
            return status, slug, title
    return 400, "bad-request", "Bad request"


def _field(error: dict[str, Any]) -> str:
    """The dotted field a validation error is about; `body` for an unreadable body."""
    loc = [str(p) for p in error.get("loc", ())]
    if error.get("type") == "json_invalid" or len(loc) < 2:
        return loc[0] if loc else "request"
    return ".".join(loc[1:])


def _allowed(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette names only the first route's)."""
    from fastapi.routing import iter_route_contexts

    path = request.url.path
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        regex = getattr(route, "path_regex", None)
        if regex is not None and regex.match(path):
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


def install(app: FastAPI) -> None:
    @app.exception_handler(errors.FactordbError)
    async def _domain(_: Request, exc: errors.FactordbError) -> JSONResponse:
        status, slug, title = classify(exc)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        extra = getattr(exc, "document", None)
        return problem(
            status, slug, title, exc.detail, errors_list=exc.errors, extra=extra, headers=headers
        )

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        """A driver error that no service turned into a domain error (a read's outage)."""
        return await _domain(request, translate_db_error(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        items = [
            {
                "loc": [str(p) for p in e.get("loc", ())],
                "field": _field(e),
                "message": e.get("msg", ""),
            }
            for e in exc.errors()
        ]
        return problem(
            422,
            "validation-failed",
            "Validation failed",
            f"{len(items)} invalid field(s) in the request",
            errors_list=items,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = getattr(exc, "headers", None)
        if exc.status_code == 400:
            # the framework could not read the body (bad encoding, broken multipart)
            return problem(
                422,
                "validation-failed",
                "Validation failed",
                f"unreadable request body: {exc.detail}",
                errors_list=[{"loc": ["body"], "field": "body", "message": str(exc.detail)}],
            )
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": ", ".join(_allowed(request))}
        slug = {404: "not-found", 405: "method-not-allowed", 401: "unauthenticated"}.get(
            exc.status_code, "http-error"
        )
        return problem(exc.status_code, slug, str(exc.detail), str(exc.detail), headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(
            500, "internal", "Internal error", "an unexpected error occurred; it was logged"
        )
