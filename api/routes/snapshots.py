"""Snapshots over HTTP: publish, list, one, frozen factors, diff, export.

A snapshot's content never changes, so its resources carry a strong `ETag` derived from
the snapshot ID (plus the variant: query, factor, other snapshot, format) and answer
`If-None-Match` with 304. URLs naming a snapshot by full ID or by label (labels are
unique and never change) are cached `public, max-age=31536000, immutable`; URLs using a
prefix are revalidated (`no-cache`), since a prefix unique today may not stay unique.
`GET /snapshots/{id}` itself shows the deprecation flag, which can move: it is
revalidated too, with the flag in its ETag.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request, Response, status
from fastapi.responses import FileResponse
from sqlmodel import Session

from api.deps import AdminCaller, Reads, SessionDep
from factordb.identifiers import SNAPSHOT_ID_RE, SNAPSHOT_PREFIX_RE
from factordb.principals import Caller
from snapshots import service
from snapshots.schemas import (
    FrozenFactor,
    FrozenFactorPage,
    PublishRequest,
    PublishResult,
    SnapshotDetail,
    SnapshotDiff,
    SnapshotList,
)

router = APIRouter(tags=["snapshots"])

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "public, no-cache"
FACTOR_ID = r"^[a-z0-9][a-z0-9._-]{0,127}:[a-z0-9][a-z0-9._-]{0,127}$"
MEDIA = {"parquet": "application/vnd.apache.parquet", "csv": "text/csv; charset=utf-8"}
CACHED = {304: {"description": "Not modified: the `If-None-Match` ETag still matches."}}

Ref = Annotated[
    str,
    Path(
        description="Snapshot ID, a unique prefix of 8+ hex digits, or its label.",
        min_length=1,
        max_length=128,
    ),
]


def _cache_control(*refs: str) -> str:
    prefixed = any(SNAPSHOT_PREFIX_RE.match(r) and not SNAPSHOT_ID_RE.match(r) for r in refs)
    return REVALIDATE if prefixed else IMMUTABLE


def _etag(snapshot_id: str, *variant: str) -> str:
    if not variant:
        return f'"{snapshot_id}"'
    digest = hashlib.sha256("\x1f".join(variant).encode("utf-8")).hexdigest()[:16]
    return f'"{snapshot_id}-{digest}"'


def _not_modified(request: Request, etag: str) -> bool:
    header = request.headers.get("if-none-match")
    if not header:
        return False
    tags = [tag.strip() for tag in header.split(",")]
    return "*" in tags or any(tag.removeprefix("W/") == etag for tag in tags)


def _json(document: Any, headers: dict[str, str]) -> Response:
    body = json.dumps(document, ensure_ascii=False, default=str, separators=(",", ":"))
    return Response(body, media_type="application/json", headers=headers)


@router.post(
    "/snapshots",
    response_model=PublishResult,
    status_code=status.HTTP_201_CREATED,
    summary="Publish a snapshot",
    responses={
        200: {"description": "Unchanged content: the existing snapshot, `created` false."},
        409: {"description": "Nothing approved to publish, or the label is taken."},
    },
)
def publish(
    session: SessionDep,
    caller: AdminCaller,
    response: Response,
    body: Annotated[PublishRequest | None, Body()] = None,
) -> dict[str, Any]:
    """Freeze the current approved revision of every live factor and the tree (admin)."""
    document = service.publish(session, caller=caller, label=body.label if body else None)
    if not document["created"]:
        response.status_code = status.HTTP_200_OK
    return document


@router.get("/snapshots", response_model=SnapshotList, summary="List snapshots")
async def list_snapshots(
    read: Reads,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    """Published snapshots in sequence order."""
    return await read(
        lambda session, _: service.list_snapshots(session, cursor=cursor, limit=limit)
    )


@router.get(
    "/snapshots/{ref}", response_model=SnapshotDetail, summary="One snapshot", responses=CACHED
)
async def show(read: Reads, request: Request, ref: Ref) -> Response:
    """Sequence, label, parent, publisher and deprecation of one snapshot."""
    document = await read(lambda session, _: service.show(session, ref))
    etag = _etag(document["snapshot_id"], "show", str(document["deprecated"]))
    headers = {"ETag": etag, "Cache-Control": REVALIDATE}
    if _not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    return _json(document, headers)


@router.get(
    "/snapshots/{ref}/factors",
    response_model=FrozenFactorPage,
    summary="Factors of a snapshot",
    responses=CACHED,
)
async def factors(
    read: Reads,
    request: Request,
    ref: Ref,
    classification: Annotated[
        str | None, Query(description="A node; matches its subtree.", max_length=200)
    ] = None,
    geography: Annotated[str | None, Query(max_length=20)] = None,
    year: Annotated[int | None, Query(ge=1000, le=9999)] = None,
    unit: Annotated[str | None, Query(description="`kg` or `kgCO2e/kg`.", max_length=40)] = None,
    provider: Annotated[str | None, Query(max_length=128)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """The factors frozen in the snapshot, filtered like `GET /factors`, in factor-ID order."""

    def page(session: Session, _: Caller) -> Response:
        snapshot = service.get_snapshot(session, ref)
        etag = _etag(
            snapshot.id, "factors", *sorted(f"{k}={v}" for k, v in request.query_params.items())
        )
        headers = {"ETag": etag, "Cache-Control": _cache_control(ref)}
        if _not_modified(request, etag):
            return Response(status_code=304, headers=headers)
        found = service.snapshot_factors(
            session,
            snapshot.id,
            classification=classification,
            geography=geography,
            year=year,
            unit=unit,
            provider=provider,
            q=q,
            cursor=cursor,
            limit=limit,
        )
        return _json(found, headers)

    return await read(page)


@router.get(
    "/snapshots/{ref}/factors/{factor_id}",
    response_model=FrozenFactor,
    summary="One factor as of a snapshot",
    responses=CACHED,
)
async def factor_as_of(
    read: Reads,
    request: Request,
    ref: Ref,
    factor_id: Annotated[str, Path(pattern=FACTOR_ID, examples=["cnbrc:ncm811-cam"])],
) -> Response:
    """The revision of the factor that the snapshot froze; 404 when it holds none."""
    document = await read(lambda session, _: service.factor_as_of(session, ref, factor_id))
    etag = _etag(document["snapshot_id"], "factor", factor_id)
    headers = {"ETag": etag, "Cache-Control": _cache_control(ref)}
    if _not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    return _json(document, headers)


@router.get(
    "/snapshots/{ref}/diff/{other}",
    response_model=SnapshotDiff,
    summary="Typed diff to another snapshot",
    responses=CACHED,
)
async def diff(read: Reads, request: Request, ref: Ref, other: Ref) -> Response:
    """Changes from `ref` to `other`, each factor once under its most telling type."""

    def changes(session: Session, _: Caller) -> Response:
        old = service.get_snapshot(session, ref)
        new = service.get_snapshot(session, other)
        etag = _etag(old.id, "diff", new.id)
        headers = {"ETag": etag, "Cache-Control": _cache_control(ref, other)}
        if _not_modified(request, etag):
            return Response(status_code=304, headers=headers)
        return _json(service.diff(session, old.id, new.id), headers)

    return await read(changes)


@router.get(
    "/snapshots/{ref}/export",
    summary="Download the export file",
    response_class=FileResponse,
    responses={
        **CACHED,
        200: {
            "description": "Parquet (verifiable with `factordb snapshot verify`) or CSV.",
            "content": {MEDIA["parquet"]: {}, "text/csv": {}},
        },
    },
)
async def export(
    read: Reads,
    request: Request,
    ref: Ref,
    fmt: Annotated[str, Query(alias="format", pattern="^(parquet|csv)$")] = "parquet",
) -> Response:
    """The snapshot's export file, built once per snapshot and served from the cache."""

    def file(session: Session, _: Caller) -> Response:
        snapshot = service.get_snapshot(session, ref)
        etag = _etag(snapshot.id, "export", fmt)
        headers = {"ETag": etag, "Cache-Control": _cache_control(ref)}
        if _not_modified(request, etag):
            return Response(status_code=304, headers=headers)
        snapshot, path = service.export_file(session, snapshot.id, fmt=fmt)
        return FileResponse(
            path,
            media_type=MEDIA[fmt],
            filename=f"factordb-snapshot-{snapshot.sequence}-{snapshot.id[:12]}.{fmt}",
            headers=headers,
        )

    return await read(file)
