"""The JSON Schemas of the public documents, and `/` pointing a browser somewhere useful."""

from __future__ import annotations

from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from factordb.errors import NotFound

router = APIRouter(tags=["schemas"])
SCHEMA_MEDIA = "application/schema+json"


def schema_names() -> list[str]:
    return sorted(
        p.name.removesuffix(".json")
        for p in resources.files("schemas").iterdir()
        if p.name.endswith(".json")
    )


class SchemaList(BaseModel):
    items: list[str]
    next_cursor: str | None = None


@router.get("/schemas", response_model=SchemaList, summary="Names of the JSON Schemas")
def list_schemas() -> SchemaList:
    """Every document schema served under `/schemas/{name}.json`."""
    return SchemaList(items=schema_names())


@router.get(
    "/schemas/{name}.json",
    response_model=dict[str, Any],
    summary="One JSON Schema (draft 2020-12)",
    responses={
        200: {"content": {SCHEMA_MEDIA: {}}},
        404: {"description": "No schema of that name."},
    },
)
def get_schema(
    name: Annotated[str, Path(description="e.g. `ingest-report`", examples=["problem"])],
) -> Response:
    """The schema file byte for byte: the same document the CLI's `--json` output follows."""
    if name not in schema_names():
        raise NotFound(f"no schema {name!r}; see GET /schemas")
    body = resources.files("schemas").joinpath(f"{name}.json").read_bytes()
    return Response(
        body,
        media_type=SCHEMA_MEDIA,
        headers={"Cache-Control": "public, max-age=3600"},
    )


@router.get("/", include_in_schema=False)
def root(request: Request) -> RedirectResponse:
    """The review desk once it is mounted, else the API docs."""
    paths = {getattr(route, "path", "") for route in request.app.routes}
    return RedirectResponse("/desk" if "/desk" in paths else "/docs", status_code=307)
