"""Expert review operations, shared by `factordb review` and the HTTP routes.

Services flush and never commit. Every function takes the authenticated caller;
rules that depend on who asks (role, organisation, specialties) are enforced here.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from factordb import lifecycle
from factordb.errors import NotFound, PermissionDenied, ValidationFailed
from factordb.identifiers import parse_revision_id
from factordb.models import ClassificationNode, FactorRevision, IngestBatch
from factordb.models.factor import REVISION_STATUSES
from factordb.pagination import paginate
from factordb.principals import Caller, get_org, require_role
from review import reads
from review.decisions import decide_locked, lock
from review.policy import NOT_FOUND, Policy, can_see, check_decision, current_policy
from review.schemas import Decisions, ReviewQueue, RevisionDetail, Skipped, Submissions

INVALID = "invalid"


def queue(
    session: Session,
    *,
    caller: Caller,
    classification: str | None = None,
    provider: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> ReviewQueue:
    """The expert's pending revisions, oldest first, with the current approved value beside.

    Only revisions in the expert's specialties, from other organisations, not yet
    decided by this expert. `classification` narrows to a subtree, `provider` (a slug)
    to one organisation. Raises NotFound for an unknown node or provider.
    """
    require_role(caller, "expert")
    if classification and session.get(ClassificationNode, classification) is None:
        raise NotFound(f"no classification node {classification!r}")
    provider_id = get_org(session, provider).id if provider else None
    query = reads.queue_query(caller, classification=classification, provider_id=provider_id)
    if cursor:
        query = query.where(reads.after_cursor(cursor))
    page = paginate(
        session,
        query,
        keys=[FactorRevision.submitted_at, FactorRevision.id],
        cursor=None,
        limit=limit,
    )
    return ReviewQueue(items=[reads.queue_item(r) for r in page.rows], next_cursor=page.next_cursor)


def show(
    session: Session, *, caller: Caller, revision: str, policy: Policy | None = None
) -> RevisionDetail:
    """One revision with its decisions; NotFound when it is missing or hidden from the caller.

    Approved revisions are public; any other status only to its provider's organisation,
    admins and experts whose specialty covers it.
    """
    parse_revision_id(revision)
    row = session.execute(
        reads.detail_query().where(FactorRevision.revision_id == revision)
    ).first()
    if row is None or not _visible(caller, row[0]):
        raise NotFound(f"no revision {revision}")
    decisions = reads.decisions_of(session, [row[0].id])
    return reads.detail(row, decisions[row[0].id], quorum=(policy or current_policy()).quorum)


def decide(
    session: Session,
    *,
    caller: Caller,
    revision: str,
    decision: str,
    comment: str | None = None,
    policy: Policy | None = None,
) -> Decisions:
    """Record one expert's decision on one revision and move it as the policy says.

    Raises ValidationFailed (bad decision, missing comment, malformed ID), NotFound
    (missing or hidden), PermissionDenied (four-eyes, outside the specialties),
    InvalidTransition (not pending) or Conflict (already decided by this expert).
    """
    require_role(caller, "expert")
    text = check_decision(decision, comment)
    parse_revision_id(revision)
    rows = lock(session, FactorRevision.revision_id == revision)
    if not rows:
        raise NotFound(f"no revision {revision}")
    decided, _ = decide_locked(
        session,
        caller=caller,
        rows=rows,
        decision=decision,
        comment=text,
        rules=policy or current_policy(),
        strict=True,
        hide_invisible=True,
    )
    return Decisions(decided=decided, skipped=[])


def decide_many(
    session: Session,
    *,
    caller: Caller,
    revisions: Sequence[str],
    decision: str,
    comment: str | None = None,
    policy: Policy | None = None,
) -> Decisions:
    """The same decision on several revisions; those the expert may not decide are skipped.

    A malformed, missing or hidden revision is skipped too (hidden ones as not found),
    so one bad argument does not block the others. Results follow the order given.
    """
    require_role(caller, "expert")
    text = check_decision(decision, comment)
    wanted = list(dict.fromkeys(revisions))
    skipped: list[Skipped] = []
    valid: list[str] = []
    for value in wanted:
        try:
            parse_revision_id(value)
        except ValidationFailed as exc:
            skipped.append(Skipped(revision=value, reason=exc.detail, kind=INVALID))
        else:
            valid.append(value)
    rows = []
    for part in reads.chunks(valid):
        rows.extend(lock(session, FactorRevision.revision_id.in_(part)))
    found = {row.revision_id for row in rows}
    skipped.extend(
        Skipped(revision=value, reason="no such revision", kind=NOT_FOUND)
        for value in valid
        if value not in found
    )
    decided, refused = decide_locked(
        session,
        caller=caller,
        rows=rows,
        decision=decision,
        comment=text,
        rules=policy or current_policy(),
        strict=False,
        hide_invisible=True,
    )
    order = {value: index for index, value in enumerate(wanted)}
    return Decisions(
        decided=sorted(decided, key=lambda d: order[d.revision]),
        skipped=sorted([*skipped, *refused], key=lambda s: order[s.revision]),
    )


def decide_batch(
    session: Session,
    *,
    caller: Caller,
    batch_id: str,
    decision: str,
    comment: str | None = None,
    policy: Policy | None = None,
) -> Decisions:
    """Decide every revision of an ingest batch that this expert may decide.

    Each is recorded as its own decision; every other revision of the batch is listed
    in `skipped` with the reason. Raises NotFound for an unknown batch.
    """
    require_role(caller, "expert")
    text = check_decision(decision, comment)
    if session.get(IngestBatch, batch_id) is None:
        raise NotFound(f"no batch {batch_id!r}")
    decided, skipped = decide_locked(
        session,
        caller=caller,
        rows=lock(session, FactorRevision.batch_id == batch_id),
        decision=decision,
        comment=text,
        rules=policy or current_policy(),
        strict=False,
        hide_invisible=False,
        batch=batch_id,
    )
    return Decisions(decided=decided, skipped=skipped)


def withdraw(session: Session, *, caller: Caller, revision: str) -> RevisionDetail:
    """The provider takes back its own pending revision (it becomes `withdrawn`).

    Raises NotFound (missing or hidden), PermissionDenied (another provider's) or
    InvalidTransition (no longer pending).
    """
    require_role(caller, "provider")
    parse_revision_id(revision)
    session.flush()
    target = session.execute(
        select(FactorRevision)
        .where(FactorRevision.revision_id == revision)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if target is None or not _visible(caller, target):
        raise NotFound(f"no revision {revision}")
    if target.organisation_id != caller.organisation_id:
        raise PermissionDenied(f"only its provider can withdraw {revision}")
    lifecycle.apply(session, target, "withdraw", actor=caller.actor)
    session.flush()
    return show(session, caller=caller, revision=revision)


def submissions(
    session: Session,
    *,
    caller: Caller,
    status: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
    policy: Policy | None = None,
) -> Submissions:
    """The provider's own revisions in submission order, with every decision and comment."""
    require_role(caller, "provider")
    if status is not None and status not in REVISION_STATUSES:
        raise ValidationFailed(f"unknown status {status!r}: use {' | '.join(REVISION_STATUSES)}")
    query = (
        reads.detail_query()
        .add_columns(FactorRevision.id)
        .where(reads.own_revisions_clause(caller, status))
    )
    page = paginate(session, query, keys=[FactorRevision.id], cursor=cursor, limit=limit)
    decisions = reads.decisions_of(session, [row[0].id for row in page.rows])
    quorum = (policy or current_policy()).quorum
    return Submissions(
        items=[reads.detail(row, decisions[row[0].id], quorum=quorum) for row in page.rows],
        next_cursor=page.next_cursor,
    )


def _visible(caller: Caller, revision: FactorRevision) -> bool:
    return can_see(
        caller,
        organisation_id=revision.organisation_id,
        classification=revision.classification,
        status=revision.status,
    )
