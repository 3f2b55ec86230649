"""Revision status moves, as data: every transition is looked up here or refused."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

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
CHUNK = 5_000  # ids per IN list: well inside SQLite's and PostgreSQL's parameter limits


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


@dataclass(frozen=True)
class Move:
    """One revision to move: its primary key, ID, status as read under the lock, and action."""

    pk: int
    revision_id: str
    status: str
    action: str


def apply_many(session: Session, moves: Sequence[Move], *, actor: str, **data: object) -> list[str]:
    """Move many revisions (rows the caller locked) with one UPDATE per new status.

    Every move is checked before anything changes, so an illegal one raises
    `InvalidTransition` and moves none. Returns the new statuses in order. ORM objects
    of these rows already in the session are expired, so they reload the new status.
    """
    news = [next_status(m.status, m.action) for m in moves]
    table = FactorRevision.__table__
    now = datetime.now(UTC)
    targets: dict[str, list[int]] = {}
    for move, new in zip(moves, news, strict=True):
        targets.setdefault(new, []).append(move.pk)
    for new, pks in targets.items():
        for start in range(0, len(pks), CHUNK):
            session.execute(
                update(table)
                .where(table.c.id.in_(pks[start : start + CHUNK]))
                .values(status=new, status_changed_at=now, version=table.c.version + 1)
            )
    for move in moves:
        loaded = session.identity_map.get(identity_key(FactorRevision, move.pk))
        if loaded is not None:
            session.expire(loaded)
    for move, new in zip(moves, news, strict=True):
        audit.record(
            session,
            actor=actor,
            action=f"revision.{move.action}",
            subject=move.revision_id,
            old=move.status,
            new=new,
            **data,
        )
    return news
