"""Write side of review: lock revisions, re-read their decisions, record new ones, move them.

Concurrency: the revision rows are locked before their decisions are read
(`SELECT … FOR UPDATE` on PostgreSQL, in id order so two batches never deadlock; on
SQLite every write transaction starts with BEGIN IMMEDIATE, which serialises writers),
so two experts deciding at once are counted one after the other, and the unique
(revision, expert) constraint refuses a second decision by the same expert.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from factordb import audit
from factordb.errors import Conflict, InvalidTransition, NotFound, PermissionDenied
from factordb.lifecycle import Move, apply_many
from factordb.models import Factor, FactorRevision, Review
from factordb.principals import Caller
from review import policy
from review.policy import Policy, Refusal
from review.reads import chunks
from review.schemas import Decided, Skipped


@dataclass(frozen=True)
class Locked:
    """A revision as read under its row lock."""

    pk: int
    revision_id: str
    factor_pk: int
    number: int
    organisation_id: int
    classification: str
    status: str


def lock(session: Session, condition: Any) -> list[Locked]:
    """Lock the revisions matching `condition` (id order) and read their status afresh."""
    session.flush()
    rows = session.execute(
        select(
            FactorRevision.id,
            FactorRevision.revision_id,
            FactorRevision.factor_pk,
            FactorRevision.number,
            FactorRevision.organisation_id,
            FactorRevision.classification,
            FactorRevision.status,
        )
        .where(condition)
        .order_by(FactorRevision.id)
        .with_for_update()
    ).all()
    return [Locked(*row) for row in rows]


def existing(
    session: Session, pks: Sequence[int], principal_id: int
) -> tuple[Counter[int], set[int]]:
    """Approvals per revision, and the revisions this expert already decided (read under lock)."""
    approvals: Counter[int] = Counter()
    mine: set[int] = set()
    for part in chunks(list(pks)):
        for pk, expert, decision in session.execute(
            select(Review.revision_pk, Review.principal_id, Review.decision).where(
                Review.revision_pk.in_(part)
            )
        ):
            if decision == "approve":
                approvals[pk] += 1
            if expert == principal_id:
                mine.add(pk)
    return approvals, mine


def raise_for(refusal: Refusal, *, revision: str, decision: str) -> None:
    """The error a single decision answers with when a rule is in the way."""
    verb = decision.replace("_", " ")
    if refusal.kind in (policy.NOT_EXPERT, policy.OWN_ORGANISATION, policy.OUTSIDE_SPECIALTY):
        raise PermissionDenied(f"cannot {verb} {revision}: {refusal.reason}")
    if refusal.kind == policy.NOT_PENDING:
        raise InvalidTransition(f"cannot {verb} {revision}: {refusal.reason}")
    if refusal.kind == policy.ALREADY_DECIDED:
        raise Conflict(f"cannot {verb} {revision}: {refusal.reason}")
    raise NotFound(f"no revision {revision}")


def decide_locked(
    session: Session,
    *,
    caller: Caller,
    rows: Sequence[Locked],
    decision: str,
    comment: str | None,
    rules: Policy,
    strict: bool,
    hide_invisible: bool,
    **context: Any,
) -> tuple[list[Decided], list[Skipped]]:
    """Record `decision` on each locked revision the caller may decide; list the others.

    With `strict`, the first revision in the way raises its error instead. With
    `hide_invisible`, a revision the caller may not see is reported as not found.
    """
    approvals, mine = existing(session, [r.pk for r in rows], caller.principal_id)
    eligible: list[Locked] = []
    skipped: list[Skipped] = []
    for row in rows:
        refusal = None
        if hide_invisible and not policy.can_see(
            caller,
            organisation_id=row.organisation_id,
            classification=row.classification,
            status=row.status,
        ):
            refusal = Refusal(policy.NOT_FOUND, "no such revision")
        refusal = refusal or policy.refusal(
            caller,
            organisation_id=row.organisation_id,
            classification=row.classification,
            status=row.status,
            decided=row.pk in mine,
        )
        if refusal is None:
            eligible.append(row)
            continue
        if strict:
            raise_for(refusal, revision=row.revision_id, decision=decision)
        skipped.append(Skipped(revision=row.revision_id, reason=refusal.reason, kind=refusal.kind))
    if not eligible:
        return [], skipped

    now = datetime.now(UTC)
    session.execute(
        insert(Review),
        [
            {
                "revision_pk": row.pk,
                "principal_id": caller.principal_id,
                "organisation_id": caller.organisation_id,
                "decision": decision,
                "comment": comment,
                "decided_at": now,
            }
            for row in eligible
        ],
    )
    for row in eligible:
        audit.record(
            session,
            actor=caller.actor,
            action=f"review.{decision}",
            subject=row.revision_id,
            comment=comment,
            **context,
        )
    moves = []
    for row in eligible:
        count = approvals[row.pk] + (decision == "approve")
        action = policy.action_for(decision, status=row.status, approvals=count, policy=rules)
        if action is not None:
            moves.append(Move(row.pk, row.revision_id, row.status, action))
    news = apply_many(session, moves, actor=caller.actor, **context)
    status = {move.pk: new for move, new in zip(moves, news, strict=True)}
    make_current(session, [row for row in eligible if status.get(row.pk) == "approved"])
    decided = [
        Decided(revision=row.revision_id, decision=decision, status=status.get(row.pk, row.status))
        for row in eligible
    ]
    return decided, skipped


def make_current(session: Session, approved: Sequence[Locked]) -> None:
    """Point each factor at its newly approved revision, unless a later number is current.

    One UPDATE … FROM per chunk. The previously current revision keeps its `approved`
    status and stays in history.
    """
    factor = Factor.__table__
    revision = FactorRevision.__table__
    current = revision.alias("current_revision")
    current_number = (
        select(current.c.number)
        .where(current.c.id == factor.c.current_revision_id)
        .scalar_subquery()
    )
    pks = [row.pk for row in approved]
    for part in chunks(pks):
        session.execute(
            update(factor)
            .where(
                factor.c.id == revision.c.factor_pk,
                revision.c.id.in_(part),
                or_(factor.c.current_revision_id.is_(None), current_number < revision.c.number),
            )
            .values(current_revision_id=revision.c.id)
        )
    for row in approved:
        loaded = session.identity_map.get(identity_key(Factor, row.factor_pk))
        if loaded is not None:
            session.expire(loaded)
