"""Resolve what a user types for a snapshot: full ID, unique 8+ digit prefix, or label."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from factordb.errors import NotFound, ValidationFailed
from factordb.identifiers import SNAPSHOT_ID_RE, SNAPSHOT_PREFIX_RE
from factordb.models import Snapshot

LABEL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def sequence_of(snapshot_id: Any) -> Any:
    """The sequence of snapshot `snapshot_id` as a scalar subquery (`snapshot_factor`'s key)."""
    return select(Snapshot.sequence).where(Snapshot.id == snapshot_id).scalar_subquery()


def get_snapshot(session: Session, ref: str) -> Snapshot:
    """Resolve a full ID, a unique prefix of 8+ hex digits, or a label.

    An ambiguous prefix raises `ValidationFailed` listing the candidates; anything
    unknown raises `NotFound`.
    """
    ref = ref.strip()
    if SNAPSHOT_ID_RE.match(ref):
        found = session.get(Snapshot, ref)
        if found is None:
            raise NotFound(f"no snapshot {ref}")
        return found
    if SNAPSHOT_PREFIX_RE.match(ref):
        matches = (
            session.execute(
                select(Snapshot)
                .where(Snapshot.id.like(ref + "%"))
                .order_by(Snapshot.sequence)
                .limit(11)
            )
            .scalars()
            .all()
        )
        if len(matches) == 1:
            return matches[0]
        if matches:
            listed = ", ".join(f"{m.id[:16]}… (sequence {m.sequence})" for m in matches[:10])
            raise ValidationFailed(
                f"snapshot prefix {ref!r} is ambiguous: {listed}; give more digits",
                errors=[
                    {"field": "snapshot", "value": m.id, "reason": "matches the prefix"}
                    for m in matches[:10]
                ],
            )
        raise NotFound(f"no snapshot whose ID starts with {ref!r}")
    if len(ref) > 128 or not LABEL_RE.match(ref):
        raise NotFound(f"no snapshot {ref[:60]!r}: give an ID, an 8+ digit prefix or a label")
    found = session.execute(select(Snapshot).where(Snapshot.label == ref)).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no snapshot labelled {ref!r}")
    return found
