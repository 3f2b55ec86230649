"""Citation manifests in, who-cited-what out: scoped per role in the service's queries."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import (
    AccountantCaller,
    AccountantReads,
    CitationReads,
    ImpactReads,
    SessionDep,
)
from api.schemas import IsoText
from snapshots import citations
from snapshots.citation_schemas import CitationReport, ErrataReport, ImpactReport, ManifestRecord

router = APIRouter(tags=["citations"])

Cursor = Annotated[
    str | None, Query(description="`next_cursor` of the previous page.", max_length=512)
]
Limit = Annotated[
    int | None, Query(description="Page size; capped at the server's maximum (500).", ge=1)
]


class CitedRevision(BaseModel):
    model_config = ConfigDict(extra="allow")

    revision: str = Field(description="Revision ID FACTOR_ID@N.", max_length=300)
    share: float | None = Field(None, description="Share of the declaration's emissions, 0–1.")


class ManifestIn(BaseModel):
    """Body of `POST /citations` (schemas/citation-manifest.json): IDs only."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "snapshot_id": "2025.1",
                    "declaration": "PACK-75-NCM811/2025-03",
                    "calculated_at": "2025-03-01T09:00:00Z",
                    "revisions": [
                        {"revision": "cnbrc:ncm811-cam@2", "share": 0.41},
                        "cec-grid:grid-east@1",
                    ],
                }
            ]
        },
    )

    snapshot_id: str = Field(description="Snapshot ID, prefix of 8+ hex digits, or label.")
    declaration: str = Field(description="The declaration's reference, unique to the citer.")
    calculated_at: Annotated[datetime | None, IsoText] = Field(
        None, description="When the result was computed."
    )
    revisions: list[str | CitedRevision] = Field(
        description="Revision IDs, or objects with the revision and its share of the result."
    )


@router.post(
    "/citations",
    response_model=ManifestRecord,
    status_code=201,
    summary="Record a citation manifest",
    responses={
        200: {"description": "The same manifest was already recorded for the declaration."},
        422: {"description": "Every unknown or mismatched entry, listed in `errors`."},
    },
)
def post_manifest(
    body: ManifestIn, session: SessionDep, caller: AccountantCaller, response: Response
) -> ManifestRecord:
    """Declaration `D` of the key's organisation used these revisions of snapshot `S`.

    Every revision must be the one the snapshot holds for its factor; one bad entry
    rejects the whole manifest. The same manifest again answers 200 with the stored
    one; a different manifest for the declaration supersedes the current one (201,
    `supersedes` names it), and both stay in the history.
    """
    record = citations.record_manifest(
        session,
        caller=caller,
        snapshot=body.snapshot_id,
        declaration=body.declaration,
        revisions=list(body.revisions),
        calculated_at=body.calculated_at,
    )
    if not record.created:
        response.status_code = 200
    return record


@router.get(
    "/citations",
    response_model=CitationReport,
    summary="Who cited which factors",
    responses={
        404: {"description": "An unknown factor or snapshot in the filters."},
        422: {"description": "A verifier without `declaration`, a bad date or cursor."},
    },
)
async def report(
    read: CitationReads,
    factor: Annotated[str | None, Query(description="Factor ID.", max_length=260)] = None,
    snapshot: Annotated[
        str | None, Query(description="Snapshot ID, prefix or label.", max_length=128)
    ] = None,
    since: Annotated[
        date | datetime | None,
        IsoText,
        Query(description="Posted on or after (ISO date or time)."),
    ] = None,
    declaration: Annotated[
        str | None,
        Query(description="A declaration reference; required for verifiers.", max_length=200),
    ] = None,
    history: Annotated[
        bool, Query(description="Also list superseded manifests in `details`.")
    ] = False,
    cursor: Cursor = None,
    limit: Limit = None,
) -> CitationReport:
    """Aggregates per factor, snapshot, citing organisation and month, and detail rows.

    A provider sees citations of its own factors only; an accountant its own manifests;
    a verifier the manifests of the declaration it names; an operator all. Aggregates
    count each declaration's current manifest only.
    """
    return await read(
        lambda session, caller: citations.citation_report(
            session,
            caller=caller,
            factor=factor,
            snapshot=snapshot,
            since=since,
            declaration=declaration,
            history=history,
            cursor=cursor,
            limit=limit,
        )
    )


@router.get(
    "/citations/impact",
    response_model=ImpactReport,
    summary="Declarations that cited factors changed between two snapshots",
    responses={404: {"description": "An unknown snapshot."}},
)
async def impact(
    read: ImpactReads,
    from_snapshot: Annotated[
        str, Query(alias="from", description="Snapshot A (ID, prefix, label).", max_length=128)
    ],
    to_snapshot: Annotated[
        str, Query(alias="to", description="Snapshot B (ID, prefix, label).", max_length=128)
    ],
    cursor: Cursor = None,
    limit: Limit = None,
) -> ImpactReport:
    """Current manifests citing a revision that A holds and B changed in value or removed,
    each with its changed factors and the largest relative change among them.

    A provider sees declarations citing its own factors (to notify them); an accountant
    its own declarations (what would move if it re-pinned from A to B).
    """
    return await read(
        lambda session, caller: citations.citation_impact(
            session,
            caller=caller,
            from_snapshot=from_snapshot,
            to_snapshot=to_snapshot,
            cursor=cursor,
            limit=limit,
        )
    )


@router.get(
    "/citations/errata",
    response_model=ErrataReport,
    summary="Cited revisions since corrected",
)
async def errata(read: AccountantReads, cursor: Cursor = None, limit: Limit = None) -> ErrataReport:
    """Revisions the key's organisation cites in current declarations that a newer
    approved revision with change reason `correction` or `unit_fix` superseded."""
    return await read(
        lambda session, caller: citations.citation_errata(
            session, caller=caller, cursor=cursor, limit=limit
        )
    )
