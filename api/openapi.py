"""The OpenAPI document: problem+json error responses on every route, tags, security.

Which errors a route documents is read from what it depends on, so a new router is
documented correctly without repeating itself: a key (401), a role gate (403), path
parameters (404), input (422), a database session, read or write (503), a write (409).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from api.deps import get_caller, get_read_session, get_session
from api.errors import PROBLEM, TYPE_BASE
from api.schemas import Problem

TAGS = [
    {"name": "health", "description": "Liveness; no key needed."},
    {"name": "reference", "description": "The classification tree and the geographies."},
    {"name": "factors", "description": "Search the live registry; one factor's history."},
    {"name": "batches", "description": "Provider CSV uploads and their reports."},
    {"name": "reviews", "description": "The expert review queue and decisions."},
    {"name": "snapshots", "description": "Immutable published releases, diffs and exports."},
    {"name": "citations", "description": "Which declarations cited which factor revisions."},
    {"name": "schemas", "description": "The JSON Schemas of the public documents."},
]

ERRORS: dict[int, tuple[str, str, str]] = {
    401: ("unauthenticated", "Authentication required", "No key, or an unknown or revoked key."),
    403: ("forbidden", "Not allowed", "The key's role may not use this route."),
    404: ("not-found", "Not found", "No such resource, or one the caller may not see."),
    409: ("conflict", "Conflict", "The request clashes with the current state."),
    422: ("validation-failed", "Validation failed", "Invalid input; `errors` names each field."),
    503: ("database-unavailable", "Database unavailable", "The registry cannot be reached."),
}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def api_routes(app: FastAPI) -> list[Any]:
    """Every API route with its full path, also inside included routers (FastAPI ≥ 0.13x
    keeps those lazily as `_IncludedRouter`s, so `app.routes` alone does not list them)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI flattens included routers into app.routes
        return [r for r in app.routes if isinstance(r, APIRoute)]
    return [c for c in iter_route_contexts(app.routes) if isinstance(c.original_route, APIRoute)]


def _calls(dependant: Dependant) -> list[Any]:
    found = [dependant.call]
    for sub in dependant.dependencies:
        found.extend(_calls(sub))
    return found


def route_errors(route: Any) -> list[int]:
    """The error statuses a route can answer with, from its dependencies and parameters."""
    calls = _calls(route.dependant)
    flat = route.dependant
    has_input = bool(
        flat.path_params or flat.query_params or flat.header_params or flat.body_params
    ) or any(d.query_params or d.path_params or d.body_params for d in flat.dependencies)
    statuses: set[int] = set()
    readers = [c for c in calls if getattr(c, "__qualname__", "").startswith("_reads.")]
    if get_caller in calls or readers:
        statuses.add(401)
    if any(getattr(c, "__qualname__", "").startswith("_role.") for c in calls) or any(
        r.roles for r in readers
    ):
        statuses.add(403)
    if "{" in route.path_format:
        statuses.add(404)
    if route.methods & WRITES:
        statuses.add(409)
    if has_input:
        statuses.add(422)
    if get_session in calls or get_read_session in calls or readers:
        statuses.add(503)
    for status in route.responses:
        if isinstance(status, int) and status >= 400:
            statuses.add(status)
    return sorted(statuses)


def _problem_response(status: int, description: str | None) -> dict[str, Any]:
    slug, title, default = ERRORS.get(status, ("http-error", "Error", "Error."))
    example: dict[str, Any] = {
        "type": TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": default,
    }
    if status == 422:
        example["errors"] = [{"loc": ["query", "limit"], "field": "limit", "message": "…"}]
    return {
        "description": description or default,
        "content": {
            PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}, "example": example}
        },
    }


def build(app: FastAPI) -> dict[str, Any]:
    document = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        tags=TAGS,
    )
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for route in api_routes(app):
        if not route.include_in_schema:
            continue
        operations = document["paths"].get(route.path_format, {})
        for method in route.methods:
            operation = operations.get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for status in route_errors(route):
                declared = route.responses.get(status, {})
                responses[str(status)] = _problem_response(status, declared.get("description"))
    components.setdefault("securitySchemes", {})["HTTPBearer"] = {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key from `factordb key create`: `Authorization: Bearer KEY`.",
    }
    return document


def install(app: FastAPI) -> None:
    """Replace the app's OpenAPI generator; the document is built once per process."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
