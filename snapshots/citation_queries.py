"""Set-based citation queries: scoped in the WHERE clause, keyset-paged, current manifests.

A manifest is current when no manifest supersedes it (an anti-join on the unique
`supersedes_id`). Scoping is a predicate on the entry (`provider_id`, the factor's
owner, copied at posting) or on the manifest (`organisation_id`, `declaration`), so a
caller's query can never reach another provider's factors, not even by counting.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, exists, func, literal, or_, select, tuple_
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from factordb.models import (
    CitationEntry,
    CitationManifest,
    Factor,
    FactorRevision,
    Organisation,
    SnapshotFactor,
)
from snapshots.resolve import sequence_of

E = CitationEntry
M = CitationManifest
CORRECTION_REASONS = ("correction", "unit_fix")
ITEM_KEYS = (E.factor_pk, M.snapshot_id, M.organisation_id, M.month)
Where = Sequence[ColumnElement[bool]]


def is_current(manifest_id: Any = M.id) -> ColumnElement[bool]:
    successor = aliased(CitationManifest)
    return ~exists().where(successor.supersedes_id == manifest_id)


def _entries() -> Any:
    return select().select_from(E).join(M, M.id == E.manifest_id)


def aggregate_page(session: Session, where: Where, after: list[Any] | None, size: int) -> list[Any]:
    """Per (factor, snapshot, citing org, month): current manifests, latest posting, revision."""
    grouped = (
        _entries()
        .add_columns(
            *ITEM_KEYS,
            func.count().label("count"),
            func.max(M.posted_at).label("latest"),
            func.max(E.revision_pk).label("revision_pk"),
        )
        .where(*where, is_current())
    )
    if after is not None:
        # The leading-key bound lets the (provider_id, factor_pk, …) index seek.
        grouped = grouped.where(tuple_(*ITEM_KEYS) > tuple_(*after), E.factor_pk >= after[0])
    page = grouped.group_by(*ITEM_KEYS).order_by(*ITEM_KEYS).limit(size + 1).subquery("page")
    return list(
        session.execute(
            select(
                page,
                Organisation.slug.label("citing_org"),
                FactorRevision.revision_id.label("revision"),
            )
            .join(Organisation, Organisation.id == page.c.organisation_id)
            .join(FactorRevision, FactorRevision.id == page.c.revision_pk)
            .order_by(page.c.factor_pk, page.c.snapshot_id, page.c.organisation_id, page.c.month)
        ).all()
    )


def detail_page(
    session: Session, where: Where, after: list[Any] | None, size: int, *, history: bool
) -> list[Any]:
    """One row per cited revision, newest manifest first; superseded ones only with history."""
    successor = aliased(CitationManifest)
    query = _entries().join(Organisation, Organisation.id == M.organisation_id)
    if history:
        query = query.outerjoin(successor, successor.supersedes_id == M.id)
        current: Any = successor.id.is_(None)
    else:
        query = query.where(is_current())
        current = literal(True)
    query = (
        query.join(FactorRevision, FactorRevision.id == E.revision_pk)
        .add_columns(
            E.manifest_id,
            E.revision_pk,
            M.declaration,
            Organisation.slug.label("citing_org"),
            M.snapshot_id,
            FactorRevision.revision_id.label("revision"),
            M.posted_at,
            M.calculated_at,
            E.share,
            M.supersedes_id,
            current.label("current"),
        )
        .where(*where)
    )
    if after is not None:
        # The manifest-side bound lets a merge join start at the cursor too.
        query = query.where(tuple_(E.manifest_id, E.revision_pk) < tuple_(*after), M.id <= after[0])
    query = query.order_by(E.manifest_id.desc(), E.revision_pk.desc()).limit(size + 1)
    return list(session.execute(query).all())


def changed_factors(from_id: str, to_id: str, provider_id: int | None) -> Any:
    """Factors snapshot A holds that B changed (another revision, another value) or dropped.

    Columns: factor_pk, old_pk, new_pk (null when dropped). For a provider only its own
    factors, computed first and materialised on PostgreSQL (a few thousand index probes),
    so its citations are then reached through the (provider_id, factor_pk) index.
    """
    held_a = aliased(SnapshotFactor)
    held_b = aliased(SnapshotFactor)
    seq_a, seq_b = sequence_of(from_id), sequence_of(to_id)
    old = aliased(FactorRevision)
    new = aliased(FactorRevision)
    if provider_id is None:
        query = select().select_from(held_a)
    else:
        # From the provider's factors, each probes A and B by primary key.
        query = (
            select()
            .select_from(Factor)
            .join(held_a, and_(held_a.snapshot_seq == seq_a, held_a.factor_pk == Factor.id))
            .where(Factor.organisation_id == provider_id)
        )
    query = (
        query.add_columns(
            held_a.factor_pk.label("factor_pk"),
            held_a.revision_pk.label("old_pk"),
            held_b.revision_pk.label("new_pk"),
        )
        .join(old, old.id == held_a.revision_pk)
        .outerjoin(held_b, and_(held_b.snapshot_seq == seq_b, held_b.factor_pk == held_a.factor_pk))
        .outerjoin(new, new.id == held_b.revision_pk)
        .where(
            held_a.snapshot_seq == seq_a,
            or_(
                held_b.revision_pk.is_(None),
                and_(held_b.revision_pk != held_a.revision_pk, new.value != old.value),
            ),
        )
    )
    if provider_id is None:
        return query.subquery("changed")
    return query.cte("changed").prefix_with("MATERIALIZED", dialect="postgresql")


def _impacted(changed: Any) -> Any:
    # An outer join to the manifest: PostgreSQL drops it when nothing reads the manifest
    # (a provider's page of IDs), and a scope on its columns still filters as an inner join.
    return (
        select()
        .select_from(E)
        .outerjoin(M, M.id == E.manifest_id)
        .join(changed, and_(changed.c.factor_pk == E.factor_pk, changed.c.old_pk == E.revision_pk))
    )


def impact_manifests(
    session: Session, where: Where, changed: Any, after: int | None, size: int
) -> list[int]:
    """Current manifests (newest first) citing a revision that A holds and B changed."""
    query = (
        _impacted(changed)
        .add_columns(E.manifest_id)
        .where(*where, is_current(E.manifest_id))
        .distinct()
    )
    if after is not None:
        query = query.where(E.manifest_id < after)
    query = query.order_by(E.manifest_id.desc()).limit(size + 1)
    return list(session.execute(query).scalars())


def impact_rows(session: Session, where: Where, changed: Any, manifest_ids: list[int]) -> list[Any]:
    old = aliased(FactorRevision)
    new = aliased(FactorRevision)
    query = (
        _impacted(changed)
        .join(old, old.id == changed.c.old_pk)
        .outerjoin(new, new.id == changed.c.new_pk)
        .join(Organisation, Organisation.id == M.organisation_id)
        .join(Factor, Factor.id == E.factor_pk)
        .add_columns(
            E.manifest_id,
            M.declaration,
            Organisation.slug.label("citing_org"),
            M.snapshot_id,
            M.posted_at,
            Factor.factor_id.label("factor"),
            old.revision_id.label("old_revision"),
            new.revision_id.label("new_revision"),
            old.value.label("old_value"),
            new.value.label("new_value"),
            old.unit,
        )
        .where(*where, E.manifest_id.in_(manifest_ids))
        .order_by(E.manifest_id.desc(), Factor.factor_id)
    )
    return list(session.execute(query).all())


def errata_page(
    session: Session, organisation_id: int, after: list[int] | None, size: int
) -> list[Any]:
    """(factor_pk, revision_pk) cited by the organisation's current manifests and since corrected."""
    cited = aliased(FactorRevision)
    fix = aliased(FactorRevision)
    corrected = exists().where(
        fix.factor_pk == E.factor_pk,
        fix.number > cited.number,
        fix.status == "approved",
        fix.change_reason.in_(CORRECTION_REASONS),
    )
    query = (
        _entries()
        .join(cited, cited.id == E.revision_pk)
        .add_columns(E.factor_pk, E.revision_pk)
        .where(M.organisation_id == organisation_id, is_current(), corrected)
        .distinct()
    )
    if after is not None:
        query = query.where(tuple_(E.factor_pk, E.revision_pk) > tuple_(*after))
    query = query.order_by(E.factor_pk, E.revision_pk).limit(size + 1)
    return list(session.execute(query).all())


def revisions_of(session: Session, factor_pks: list[int]) -> list[Any]:
    """Every revision of these factors with the fields errata need, in number order."""
    return list(
        session.execute(
            select(
                FactorRevision.id,
                FactorRevision.factor_pk,
                FactorRevision.number,
                FactorRevision.revision_id,
                FactorRevision.value,
                FactorRevision.unit,
                FactorRevision.status,
                FactorRevision.change_reason,
                Factor.factor_id,
            )
            .join(Factor, Factor.id == FactorRevision.factor_pk)
            .where(FactorRevision.factor_pk.in_(factor_pks))
            .order_by(FactorRevision.factor_pk, FactorRevision.number)
        ).all()
    )


def declarations_citing(
    session: Session, organisation_id: int, revision_pks: list[int]
) -> list[Any]:
    return list(
        session.execute(
            _entries()
            .add_columns(E.revision_pk, M.declaration)
            .where(
                M.organisation_id == organisation_id,
                E.revision_pk.in_(revision_pks),
                is_current(),
            )
            .distinct()
            .order_by(E.revision_pk, M.declaration)
        ).all()
    )


def manifest_row(session: Session, manifest_id: int) -> Any:
    successor = aliased(CitationManifest)
    return session.execute(
        select(M, Organisation.slug.label("citing_org"), successor.id.label("superseded_by"))
        .join(Organisation, Organisation.id == M.organisation_id)
        .outerjoin(successor, successor.supersedes_id == M.id)
        .where(M.id == manifest_id)
    ).one_or_none()


def manifest_entries(session: Session, manifest_id: int) -> list[Any]:
    return list(
        session.execute(
            select(FactorRevision.revision_id, Factor.factor_id, E.share)
            .select_from(E)
            .join(FactorRevision, FactorRevision.id == E.revision_pk)
            .join(Factor, Factor.id == E.factor_pk)
            .where(E.manifest_id == manifest_id)
            .order_by(Factor.factor_id)
        ).all()
    )
