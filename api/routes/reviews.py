"""Expert review over HTTP: the queue, decisions, withdrawals, one revision, submissions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import ExpertCaller, ExpertReads, ProviderCaller, ProviderReads, Reads, SessionDep
from review import service
from review.schemas import DecisionIn, Decisions, ReviewQueue, RevisionDetail, Submissions

router = APIRouter(tags=["reviews"])

REVISION_ID = r"^[a-z0-9][a-z0-9._-]{0,127}:[a-z0-9][a-z0-9._-]{0,127}@[1-9][0-9]{0,8}$"
RevisionPath = Annotated[
    str,
    Path(
        description="Revision ID PROVIDER_SLUG:FACTOR_CODE@N.",
        pattern=REVISION_ID,
        examples=["cnbrc:ncm811-cam@2"],
    ),
]
CursorQuery = Annotated[
    str | None, Query(description="`next_cursor` of the previous page.", max_length=512)
]
LimitQuery = Annotated[
    int | None, Query(description="Page size; capped at the server's maximum.", ge=1)
]


@router.get(
    "/reviews/queue",
    response_model=ReviewQueue,
    summary="The expert's review queue",
    responses={404: {"description": "An unknown classification node or provider."}},
)
async def review_queue(
    read: ExpertReads,
    classification: Annotated[
        str | None, Query(description="Only this classification subtree.", max_length=200)
    ] = None,
    provider: Annotated[
        str | None, Query(description="Only this provider (slug).", max_length=128)
    ] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = None,
) -> ReviewQueue:
    """Pending revisions in the expert's specialties from other organisations, oldest first,
    with the current approved value beside the proposed one and the relative change."""
    return await read(
        lambda session, caller: service.queue(
            session,
            caller=caller,
            classification=classification,
            provider=provider,
            cursor=cursor,
            limit=limit,
        )
    )


@router.post(
    "/reviews/{revision}/decisions",
    response_model=Decisions,
    summary="Decide one revision",
    responses={
        403: {"description": "Four-eyes rule, outside the specialties, or not an expert key."},
        404: {"description": "No such revision, or one the expert may not see."},
        409: {"description": "Not pending any more, or already decided by this expert."},
        422: {"description": "Unknown decision, or no comment to reject / request changes."},
    },
)
def decide_revision(
    session: SessionDep, caller: ExpertCaller, revision: RevisionPath, body: DecisionIn
) -> Decisions:
    """Approve, reject or request changes; a quorum of approvals approves, one rejection
    rejects, a request for changes sends it back. A comment is required except to approve."""
    return service.decide(
        session, caller=caller, revision=revision, decision=body.decision, comment=body.comment
    )


@router.post(
    "/batches/{batch_id}/decisions",
    response_model=Decisions,
    summary="Decide every revision of a batch",
    tags=["batches"],
    responses={
        404: {"description": "No such batch."},
        422: {"description": "Unknown decision, or no comment to reject / request changes."},
    },
)
def decide_batch(
    session: SessionDep,
    caller: ExpertCaller,
    batch_id: Annotated[str, Path(description="Batch ID printed by ingest.", max_length=40)],
    body: DecisionIn,
) -> Decisions:
    """The same decision on every revision of the batch this expert may decide, each
    recorded as its own decision; `skipped` lists the others with the reason."""
    return service.decide_batch(
        session, caller=caller, batch_id=batch_id, decision=body.decision, comment=body.comment
    )


@router.post(
    "/revisions/{revision}/withdraw",
    response_model=RevisionDetail,
    summary="Withdraw a pending revision",
    responses={
        403: {"description": "Another provider's revision."},
        404: {"description": "No such revision, or one the caller may not see."},
        409: {"description": "The revision is no longer pending."},
    },
)
def withdraw_revision(
    session: SessionDep, caller: ProviderCaller, revision: RevisionPath
) -> RevisionDetail:
    """The provider takes back one of its own revisions while it is still pending."""
    return service.withdraw(session, caller=caller, revision=revision)


@router.get(
    "/revisions/{revision}",
    response_model=RevisionDetail,
    summary="One revision with its decisions",
    responses={404: {"description": "No such revision, or one the caller may not see."}},
)
async def get_revision(read: Reads, revision: RevisionPath) -> RevisionDetail:
    """Approved revisions to any key; others to their provider, admins and the experts
    whose specialty covers them."""
    return await read(
        lambda session, caller: service.show(session, caller=caller, revision=revision)
    )


@router.get(
    "/submissions",
    response_model=Submissions,
    summary="The provider's own revisions",
    responses={422: {"description": "An unknown status, or a bad cursor."}},
)
async def list_submissions(
    read: ProviderReads,
    status: Annotated[
        str | None, Query(description="Only revisions in this status.", max_length=20)
    ] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = None,
) -> Submissions:
    """Every revision of the caller's organisation in submission order, with its status
    and the experts' decisions and comments."""
    return await read(
        lambda session, caller: service.submissions(
            session, caller=caller, status=status, cursor=cursor, limit=limit
        )
    )
