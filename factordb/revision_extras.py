"""Reads beside a revision's review document: its full content, and the snapshots that froze it.

The review document (`review.service.show`) decides who may see a revision and carries
its status and decisions; the desk's revision page also shows the content fields it
leaves out (gas breakdown, DQR, uncertainty, validity, links). Both reads here are
keyed by what the caller was already allowed to see: `content` is called only with a
revision the review service returned to that caller, and snapshot membership is public
(every role may browse every snapshot, and snapshots hold approved revisions only).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from factordb.errors import NotFound
from factordb.models import Factor, FactorRevision, Snapshot, SnapshotFactor
from factordb.revisions import CONTENT_FIELDS


def content(session: Session, *, revision: str) -> dict[str, Any]:
    """Every content field of the revision `slug:code@N`, plus its source row number."""
    row = session.execute(
        select(FactorRevision).where(FactorRevision.revision_id == revision)
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no revision {revision}")
    return {
        **{field: getattr(row, field) for field in CONTENT_FIELDS},
        "row_number": row.row_number,
    }


def snapshots_by_revision(session: Session, *, factor: str) -> dict[str, list[dict[str, Any]]]:
    """For each revision of the factor frozen in a snapshot, those snapshots, oldest first."""
    # One primary-key probe (snapshot, factor) per snapshot: snapshot_factor has no
    # index on revisions, and snapshots are few while their rows are millions.
    factor_pk = select(Factor.id).where(Factor.factor_id == factor).scalar_subquery()
    rows = session.execute(
        select(FactorRevision.revision_id, Snapshot.id, Snapshot.sequence, Snapshot.label)
        .select_from(Snapshot)
        .join(
            SnapshotFactor,
            (SnapshotFactor.snapshot_seq == Snapshot.sequence)
            & (SnapshotFactor.factor_pk == factor_pk),
        )
        .join(FactorRevision, FactorRevision.id == SnapshotFactor.revision_pk)
        .order_by(Snapshot.sequence)
    ).all()
    found: dict[str, list[dict[str, Any]]] = {}
    for revision, snapshot_id, sequence, label in rows:
        found.setdefault(revision, []).append(
            {"id": snapshot_id, "sequence": sequence, "label": label or f"#{sequence}"}
        )
    return found
