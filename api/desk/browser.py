"""The snapshot browser, for every role: the list, one snapshot's factors, the diff, the export."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse

from api.desk import views
from api.desk.render import DeskRoute, render
from api.desk.session import CurrentUser, DeskSession
from factordb import reference
from factordb.errors import ValidationFailed
from snapshots import diff as diffs
from snapshots import exports, queries
from snapshots import service as snapshots

router = APIRouter(prefix="/desk/snapshots", route_class=DeskRoute, include_in_schema=False)

PAGE = 50
MEDIA = {"parquet": "application/vnd.apache.parquet", "csv": "text/csv; charset=utf-8"}


@router.get("", response_class=HTMLResponse, response_model=None)
def snapshot_list(
    request: Request,
    session: DeskSession,
    _: CurrentUser,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> HTMLResponse:
    """Published snapshots in sequence order, with download links and a compare form."""
    page = snapshots.list_snapshots(session, cursor=cursor or None, limit=PAGE)
    return render(request, "snapshots.html", page=page, cursor=cursor)


@router.get("/{ref}", response_class=HTMLResponse, response_model=None)
def snapshot_page(
    request: Request,
    session: DeskSession,
    _: CurrentUser,
    ref: str,
    classification: Annotated[str | None, Query(max_length=200)] = None,
    geography: Annotated[str | None, Query(max_length=20)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> HTMLResponse:
    """A snapshot's factors, filtered by classification subtree and geography, paginated."""
    snapshot = snapshots.show(session, ref)
    classification, geography = (classification or "").strip(), (geography or "").strip()
    status, filter_error = 200, None
    try:
        factors = queries.snapshot_factors(
            session,
            snapshot["snapshot_id"],
            classification=classification or None,
            geography=geography or None,
            cursor=cursor or None,
            limit=PAGE,
        )
    except ValidationFailed as exc:
        session.rollback()
        factors, status = {"items": [], "next_cursor": None}, 422
        filter_error = "; ".join(
            [exc.detail, *(str(e.get("reason", "")) for e in exc.errors if e.get("reason"))]
        )
    return render(
        request,
        "snapshot.html",
        status=status,
        snapshot=snapshot,
        factors=factors,
        nodes=reference.node_map(session),
        geos=reference.geography_map(session),
        classification=classification,
        geography=geography,
        cursor=cursor,
        filter_error=filter_error,
        others=snapshots.list_snapshots(session, limit=PAGE)["items"],
    )


@router.get("/{ref}/diff", response_class=HTMLResponse, response_model=None)
def snapshot_diff(
    request: Request,
    session: DeskSession,
    _: CurrentUser,
    ref: str,
    to: Annotated[str, Query(min_length=1, max_length=128)],
) -> HTMLResponse:
    """The typed diff from `ref` to `to`: counts per type, suspected unit errors first."""
    document = diffs.diff(session, ref, to)
    return render(
        request,
        "diff.html",
        diff=document,
        changes=views.ordered_changes(document["changes"]),
        old=snapshots.show(session, document["from"]),
        new=snapshots.show(session, document["to"]),
        types=views.DIFF_ORDER,
    )


@router.get("/{ref}/export", response_class=FileResponse, response_model=None)
def snapshot_export(
    session: DeskSession,
    _: CurrentUser,
    ref: str,
    format_: Annotated[str, Query(alias="format", max_length=10)] = "parquet",
) -> FileResponse:
    """The snapshot's export file (Parquet or CSV), the same bytes as the API's download."""
    snapshot, path = exports.export_file(session, ref, fmt=format_)
    return FileResponse(
        path,
        media_type=MEDIA[format_],
        filename=f"factordb-{snapshot.sequence}-{snapshot.id[:12]}.{format_}",
        headers={
            "ETag": f'"{snapshot.id}-{format_}"',
            "Cache-Control": "private, max-age=31536000, immutable",
        },
    )
