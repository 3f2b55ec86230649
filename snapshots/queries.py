"""Reads of a snapshot's frozen factors in the registry: filtered pages and "as of" lookups."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from factordb.db import DriverSelect
from factordb.errors import NotFound, ValidationFailed
from factordb.identifiers import SLUG_RE, SNAPSHOT_ID_RE, SNAPSHOT_PREFIX_RE, parse_factor_id
from factordb.models import Factor, FactorRevision, Organisation, Snapshot, SnapshotFactor
from factordb.pagination import decode_cursor, paginate
from factordb.reference import subtree_clause
from snapshots.fileformat import COLUMN_NAMES
from snapshots.resolve import LABEL_RE, get_snapshot

_SPECIAL = {
    "factor": Factor.factor_id,
    "revision": FactorRevision.revision_id,
    "provider": Organisation.slug,
    "code": Factor.code,
}
COLUMNS = (
    *(
        (_SPECIAL[name] if name in _SPECIAL else getattr(FactorRevision, name)).label(name)
        for name in COLUMN_NAMES
    ),
    FactorRevision.number.label("number"),
    Factor.factor_id,  # the pagination key, under its own name for the cursor
)
MAX_TEXT = 200


FROZEN = (
    select(*COLUMNS, Snapshot.id.label("snapshot_id"))
    .select_from(SnapshotFactor)
    .join(Snapshot, Snapshot.sequence == SnapshotFactor.snapshot_seq)
    .join(FactorRevision, FactorRevision.id == SnapshotFactor.revision_pk)
    .join(Factor, Factor.id == SnapshotFactor.factor_pk)
    .join(Organisation, Organisation.id == Factor.organisation_id)
)
# The "as of" lookup resolves a full ID or a label in the same statement, run on the
# driver's cursor: it is the API's hottest read.
_AS_OF = FROZEN.where(Factor.factor_id == bindparam("factor_id"))
_AS_OF_BY_ID = DriverSelect(_AS_OF.where(Snapshot.id == bindparam("ref")))
_AS_OF_BY_LABEL = DriverSelect(_AS_OF.where(Snapshot.label == bindparam("ref")))


def _frozen(snapshot: Snapshot) -> Any:
    return FROZEN.where(SnapshotFactor.snapshot_seq == snapshot.sequence)


def _row(row: Any) -> dict[str, Any]:
    item = {name: row[name] for name in (*COLUMN_NAMES, "number", "snapshot_id")}
    for day in ("valid_from", "valid_to"):
        if isinstance(item[day], date):
            item[day] = item[day].isoformat()
    return item


def _check(field: str, value: str | None, *, known: set[str] | None = None) -> None:
    if value is None:
        return
    reason = None
    if "\x00" in value or len(value) > MAX_TEXT:
        reason = f"at most {MAX_TEXT} characters, no NUL"
    elif known is not None and value not in known:
        reason = f"no such {field} in this snapshot's tree"
    if reason:
        raise ValidationFailed(
            f"invalid {field} {value[:40]!r}",
            errors=[{"field": field, "value": value[:40], "reason": reason}],
        )


def snapshot_factors(
    session: Session,
    ref: str,
    *,
    classification: str | None = None,
    geography: str | None = None,
    year: int | None = None,
    unit: str | None = None,
    provider: str | None = None,
    q: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """One page of the factors frozen in snapshot `ref`, in factor-ID order.

    Filters as `GET /factors`: `classification` matches its subtree, `geography` and
    `year` exactly, `unit` is a base unit (`kg`) or `kgCO2e/kg`, `provider` a slug, `q`
    case-insensitive text in the name, code or source. Codes are checked against the
    snapshot's own frozen tree.
    """
    snapshot = get_snapshot(session, ref)
    tree = json.loads(snapshot.tree)
    _check("classification", classification, known={n["code"] for n in tree["classification"]})
    _check("geography", geography, known={g["code"] for g in tree["geographies"]})
    _check("unit", unit)
    _check("q", q)
    if provider is not None and not SLUG_RE.match(provider):
        _check("provider", provider, known=set())
    if cursor is not None:
        (last,) = decode_cursor(cursor, 1)
        if not isinstance(last, str) or len(last) > 300:
            raise ValidationFailed(f"invalid cursor {cursor[:40]!r}")
    query = _frozen(snapshot)
    if classification:
        query = query.where(subtree_clause(FactorRevision.classification, classification))
    if geography:
        query = query.where(FactorRevision.geography == geography)
    if year is not None:
        query = query.where(FactorRevision.reference_year == year)
    if unit:
        query = query.where(FactorRevision.unit == unit.rsplit("/", 1)[-1].strip())
    if provider:
        query = query.where(Organisation.slug == provider)
    if q:
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        query = query.where(
            or_(
                FactorRevision.name.ilike(pattern, escape="\\"),
                Factor.code.ilike(pattern, escape="\\"),
                FactorRevision.source.ilike(pattern, escape="\\"),
            )
        )
    page = paginate(session, query, keys=[Factor.factor_id], cursor=cursor, limit=limit)
    return {
        "items": [_row(row._mapping) for row in page.rows],
        "next_cursor": page.next_cursor,
    }


def factor_as_of(session: Session, ref: str, factor_id: str) -> dict[str, Any]:
    """The revision of `factor_id` frozen in snapshot `ref`; `NotFound` when it holds none.

    The document carries the resolved `snapshot_id` (for a label or prefix `ref`).
    """
    parse_factor_id(factor_id)
    ref = ref.strip()
    if SNAPSHOT_ID_RE.match(ref):
        statement = _AS_OF_BY_ID
    elif SNAPSHOT_PREFIX_RE.match(ref) or not LABEL_RE.match(ref):
        statement, ref = _AS_OF_BY_ID, get_snapshot(session, ref).id
    else:
        statement = _AS_OF_BY_LABEL
    row = statement.first(session, ref=ref, factor_id=factor_id)
    if row is None:
        snapshot = get_snapshot(session, ref)  # raises when the snapshot itself is unknown
        raise NotFound(
            f"factor {factor_id!r} is not in snapshot {snapshot.id[:12]} "
            f"(sequence {snapshot.sequence})"
        )
    return _row(row)
