"""Read side of review: the queue query, revision documents and their decisions.

Scoping happens in the query (pending, outside the caller's organisation, inside its
specialties), so nothing the caller may not see is ever loaded.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, and_, exists, false, func, or_, select, text, tuple_
from sqlalchemy.orm import Session, aliased

from factordb.errors import ValidationFailed
from factordb.models import Factor, FactorRevision, Organisation, Review
from factordb.pagination import decode_cursor
from factordb.principals import Caller
from factordb.reference import subtree_clause
from review.schemas import DecisionRecord, QueueItem, RevisionDetail

# Written exactly as the predicate of the partial index ix_revision_pending, with literals,
# so both planners can prove the index applies (a bound parameter would hide it).
PENDING_SQL = text("factor_revision.status IN ('submitted', 'in_review')")
CHUNK = 5_000

current = aliased(FactorRevision, name="current_revision")


def utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def relative_change(proposed: float, current_value: float | None) -> float | None:
    if current_value is None or current_value == 0:
        return None
    return (proposed - current_value) / current_value


def warnings_of(raw: str | None) -> list[Any]:
    try:
        value = json.loads(raw or "[]")
    except ValueError:
        return [{"kind": "unreadable", "detail": raw}]
    return value if isinstance(value, list) else [value]


def chunks(values: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def approvals_column() -> Any:
    return (
        select(func.count(Review.id))
        .where(Review.revision_pk == FactorRevision.id, Review.decision == "approve")
        .correlate(FactorRevision)
        .scalar_subquery()
    )


def specialty_clause(specialties: tuple[str, ...]) -> Any:
    if not specialties:
        return false()
    return or_(*(subtree_clause(FactorRevision.classification, node) for node in specialties))


def after_cursor(cursor: str) -> Any:
    """Keyset condition after a queue cursor (submitted_at, id)."""
    moment, pk = decode_cursor(cursor, 2)
    try:
        after = datetime.fromisoformat(str(moment))
        pk = int(pk)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(f"invalid cursor {cursor!r}") from exc
    return tuple_(FactorRevision.submitted_at, FactorRevision.id) > tuple_(after, pk)


def queue_query(
    caller: Caller, *, classification: str | None, provider_id: int | None
) -> Select[Any]:
    """Pending revisions this expert may decide and has not decided yet."""
    mine = exists().where(
        Review.revision_pk == FactorRevision.id, Review.principal_id == caller.principal_id
    )
    query = (
        select(
            FactorRevision.id,
            FactorRevision.revision_id,
            Factor.factor_id,
            Organisation.slug.label("provider"),
            FactorRevision.name,
            FactorRevision.classification,
            FactorRevision.geography,
            FactorRevision.reference_year,
            FactorRevision.status,
            FactorRevision.value,
            FactorRevision.unit,
            FactorRevision.original_value,
            FactorRevision.original_unit,
            FactorRevision.warnings,
            FactorRevision.submitted_at,
            current.value.label("current_value"),
            current.revision_id.label("current_revision"),
            approvals_column().label("approvals"),
        )
        .join(Factor, Factor.id == FactorRevision.factor_pk)
        .join(Organisation, Organisation.id == FactorRevision.organisation_id)
        .outerjoin(current, current.id == Factor.current_revision_id)
        .where(
            PENDING_SQL,
            FactorRevision.organisation_id != caller.organisation_id,
            specialty_clause(caller.specialties),
            ~mine,
        )
    )
    if classification:
        query = query.where(subtree_clause(FactorRevision.classification, classification))
    if provider_id is not None:
        query = query.where(FactorRevision.organisation_id == provider_id)
    return query


def queue_item(row: Any) -> QueueItem:
    return QueueItem(
        revision=row.revision_id,
        factor=row.factor_id,
        provider=row.provider,
        name=row.name,
        classification=row.classification,
        geography=row.geography,
        reference_year=row.reference_year,
        status=row.status,
        proposed_value=row.value,
        current_value=row.current_value,
        current_revision=row.current_revision,
        unit=row.unit,
        original_value=row.original_value,
        original_unit=row.original_unit,
        relative_change=relative_change(row.value, row.current_value),
        approvals=row.approvals,
        warnings=warnings_of(row.warnings),
        submitted_at=utc(row.submitted_at),
    )


def detail_query() -> Select[Any]:
    return (
        select(
            FactorRevision,
            Factor.factor_id,
            Organisation.slug.label("provider"),
            current.value.label("current_value"),
            current.revision_id.label("current_revision"),
        )
        .join(Factor, Factor.id == FactorRevision.factor_pk)
        .join(Organisation, Organisation.id == FactorRevision.organisation_id)
        .outerjoin(current, current.id == Factor.current_revision_id)
    )


def decisions_of(session: Session, pks: Sequence[int]) -> dict[int, list[DecisionRecord]]:
    """Every decision on these revisions, oldest first, with the deciding organisation."""
    records: dict[int, list[DecisionRecord]] = defaultdict(list)
    for part in chunks(list(pks)):
        rows = session.execute(
            select(
                Review.revision_pk,
                Review.decision,
                Review.comment,
                Review.decided_at,
                Organisation.slug,
            )
            .join(Organisation, Organisation.id == Review.organisation_id)
            .where(Review.revision_pk.in_(part))
            .order_by(Review.decided_at, Review.id)
        ).all()
        for row in rows:
            records[row.revision_pk].append(
                DecisionRecord(
                    organisation=row.slug,
                    decision=row.decision,
                    comment=row.comment,
                    decided_at=utc(row.decided_at),
                )
            )
    return records


def detail(row: Any, decisions: list[DecisionRecord], *, quorum: int) -> RevisionDetail:
    revision: FactorRevision = row[0]
    return RevisionDetail(
        revision=revision.revision_id,
        factor=row.factor_id,
        number=revision.number,
        provider=row.provider,
        status=revision.status,
        name=revision.name,
        classification=revision.classification,
        geography=revision.geography,
        reference_year=revision.reference_year,
        technology=revision.technology,
        value=revision.value,
        unit=revision.unit,
        original_value=revision.original_value,
        original_unit=revision.original_unit,
        gwp_basis=revision.gwp_basis,
        source=revision.source,
        change_reason=revision.change_reason,
        batch_id=revision.batch_id,
        current_value=row.current_value,
        current_revision=row.current_revision,
        relative_change=relative_change(revision.value, row.current_value),
        warnings=warnings_of(revision.warnings),
        submitted_at=utc(revision.submitted_at),
        status_changed_at=utc(revision.status_changed_at),
        approvals=sum(1 for d in decisions if d.decision == "approve"),
        quorum=quorum,
        decisions=decisions,
    )


def own_revisions_clause(caller: Caller, status: str | None) -> Any:
    condition = FactorRevision.organisation_id == caller.organisation_id
    return and_(condition, FactorRevision.status == status) if status else condition
