"""Revision status moves, as data: every transition is looked up here or refused."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from factordb import audit
from factordb.errors import InvalidTransition
from factordb.models import FactorRevision
from factordb.models.factor import PENDING_STATUSES

TRANSITIONS: dict[tuple[str, str], str] = {
    **{(s, "start_review"): "in_review" for s in ("submitted",)},
    **{(s, "approve"): "approved" for s in PENDING_STATUSES},
    **{(s, "reject"): "rejected" for s in PENDING_STATUSES},
    **{(s, "request_changes"): "changes_requested" for s in PENDING_STATUSES},
    **{(s, "withdraw"): "withdrawn" for s in PENDING_STATUSES},
    **{(s, "supersede"): "superseded" for s in (*PENDING_STATUSES, "changes_requested")},
}
ACTIONS = tuple(sorted({action for _, action in TRANSITIONS}))


def next_status(status: str, action: str) -> str:
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        raise InvalidTransition(
            f"cannot {action.replace('_', ' ')} a revision that is {status.replace('_', ' ')}"
        ) from None


def apply(
    session: Session, revision: FactorRevision, action: str, *, actor: str, **data: object
) -> str:
    """Move one revision (already locked by the caller) and record the move."""
    new = next_status(revision.status, action)
    old = revision.status
    revision.status = new
    revision.status_changed_at = datetime.now(UTC)
    revision.version += 1
    session.add(revision)
    audit.record(
        session,
        actor=actor,
        action=f"revision.{action}",
        subject=revision.revision_id,
        old=old,
        new=new,
        **data,
    )
    return new
