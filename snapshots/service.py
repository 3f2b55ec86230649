"""Snapshot operations: publish, resolve, list, show, deprecate; the rest re-exported.

Routes and commands call these (one call each). Services flush and never commit.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, text, update
from sqlalchemy.orm import Session

from factordb import audit, reference
from factordb.errors import Conflict, ValidationFailed
from factordb.identifiers import SNAPSHOT_PREFIX_RE
from factordb.models import Organisation, Principal, Snapshot
from factordb.pagination import paginate
from factordb.principals import Caller, require_role
from snapshots import exports, rows
from snapshots.diff import diff
from snapshots.exports import export, export_file
from snapshots.fileformat import iso_utc, manifest, tree_json
from snapshots.queries import factor_as_of, snapshot_factors
from snapshots.resolve import LABEL_RE, get_snapshot

__all__ = [
    "deprecate",
    "diff",
    "export",
    "export_file",
    "factor_as_of",
    "get_snapshot",
    "list_snapshots",
    "publish",
    "show",
    "snapshot_factors",
]

PUBLISH_LOCK_KEY = 7_281_945_014
FREEZE = "factordb_publish_freeze"
# The ID of a snapshot being filled, until its content ID is known: never 64 hex digits.
PROVISIONAL = "provisional-"
MAX_REASON = 2000


def publish(session: Session, *, caller: Caller, label: str | None = None) -> dict[str, Any]:
    """Freeze the current approved revision of every live factor, with the tree, as one snapshot.

    One transaction, serialised against other publishers (advisory lock on PostgreSQL,
    `BEGIN IMMEDIATE` on SQLite). Unchanged content returns the existing snapshot with
    `created: false` (its label stays; a snapshot never changes). Raises `Conflict` for
    an empty registry or a label already taken, `ValidationFailed` for a bad label.
    """
    require_role(caller, "admin")
    label = _check_label(label)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PUBLISH_LOCK_KEY})
        # Each statement below runs once over every factor: compiling it costs more than it saves.
        session.execute(text("SET LOCAL jit = off"))
    _freeze(session)
    tree = tree_json(reference.nodes(session), reference.geographies(session))
    latest = session.execute(
        select(Snapshot).order_by(Snapshot.sequence.desc()).limit(1)
    ).scalar_one_or_none()
    if latest is not None and latest.tree == tree and _holds_the_frozen_pairs(session, latest):
        document = _publish_document(latest, created=False)
    else:
        table = rows.fetch(session, FREEZE)
        if table.num_rows == 0:
            raise Conflict("nothing to publish: no factor has an approved revision")
        with exports.SortedRows(table) as frozen:
            del table
            document = _publish_frozen(
                session, caller=caller, label=label, tree=tree, latest=latest, frozen=frozen
            )
    # On failure the rollback drops the temporary table with everything else.
    session.execute(text(f"DROP TABLE {FREEZE}"))
    return document


def _holds_the_frozen_pairs(session: Session, snapshot: Snapshot) -> bool:
    """Whether `snapshot` froze exactly the (factor, revision) pairs frozen now.

    Then, with the same tree, it has the same content and so the same ID: every field of
    a factor line is a revision's content or its factor's ID, provider or code, and the
    database refuses to change any of them (`migrations/versions/0002_integrity.py`).
    Counts and revision sums are compared first (a tenth of a second for a million
    pairs: any new revision moves the sum), and only equal ones are matched pair by
    pair; factors are unique on both sides, so an equal-sized match means equal sets.
    """
    sums = "count(*), coalesce(sum(revision_pk), 0)"
    frozen = session.execute(text(f"SELECT {sums} FROM {FREEZE}")).one()
    held = session.execute(
        text(f"SELECT {sums} FROM snapshot_factor WHERE snapshot_seq = :seq"),
        {"seq": snapshot.sequence},
    ).one()
    if tuple(frozen) != tuple(held):
        return False
    matched = session.execute(
        text(
            f"SELECT count(*) FROM {FREEZE} z JOIN snapshot_factor s "
            "ON s.snapshot_seq = :seq AND s.factor_pk = z.factor_pk "
            "AND s.revision_pk = z.revision_pk"
        ),
        {"seq": snapshot.sequence},
    ).scalar_one()
    return matched == frozen[0]


def _publish_frozen(
    session: Session,
    *,
    caller: Caller,
    label: str | None,
    tree: str,
    latest: Snapshot | None,
    frozen: exports.SortedRows,
) -> dict[str, Any]:
    """Fill a new snapshot while its ID is computed; keep it unless that ID already exists.

    The database inserts the frozen pairs (under the snapshot's sequence, with a
    provisional ID) while DuckDB hashes the rows and writes the export on another core.
    Then either the ID names an existing snapshot (content seen before: the savepoint
    rolls the new one back) or the snapshot takes its ID and is sealed in one UPDATE.
    """
    if label is not None and _label_holder(session, label) is not None:
        # Unchanged content ignores the label, so learn whether it is unchanged first.
        existing = session.get(Snapshot, frozen.content_id(tree))
        if existing is not None:
            return _publish_document(existing, created=False)
        _require_free_label(session, label)
    sequence = (latest.sequence + 1) if latest else 1
    published_at = datetime.now(UTC)
    fields = {
        "sequence": sequence,
        "label": label,
        "parent": latest.id if latest else None,
        "rows": frozen.count,
        "tree": tree,
    }
    savepoint = session.begin_nested()
    session.execute(
        insert(Snapshot).values(
            id=f"{PROVISIONAL}{uuid.uuid4().hex}",
            sequence=sequence,
            label=label,
            parent=fields["parent"],
            factor_count=frozen.count,
            tree=tree,
            published_at=published_at,
            publisher_id=caller.principal_id or None,
            sealed=False,
            deprecated=False,
        )
    )
    meta = {**fields, "published_at": iso_utc(published_at)}
    hashing = _Background(
        frozen.hash_and_stage, tree, lambda snapshot_id: manifest(snapshot_id=snapshot_id, **meta)
    )
    try:
        # In key order: the rows then fill the primary key at its right edge.
        session.execute(
            text(
                "INSERT INTO snapshot_factor (snapshot_seq, factor_pk, revision_pk) "
                f"SELECT :seq, factor_pk, revision_pk FROM {FREEZE} ORDER BY factor_pk"
            ),
            {"seq": sequence},
        )
        if session.get_bind().dialect.name == "postgresql":
            # Planner statistics for the new rows, inside this transaction (while DuckDB
            # hashes): the first reads of the snapshot must not wait for autovacuum.
            session.execute(text("ANALYZE snapshot_factor"))
    except BaseException:
        with contextlib.suppress(Exception):  # the database's error is the one to report
            hashing.result()[1].unlink(missing_ok=True)
        raise
    snapshot_id, staged = hashing.result()
    try:
        existing = session.get(Snapshot, snapshot_id)
        if existing is not None:
            document = _publish_document(existing, created=False)
            savepoint.rollback()
            return document
        session.execute(
            update(Snapshot)
            .where(Snapshot.sequence == sequence)
            .values(id=snapshot_id, sealed=True)
        )
        savepoint.commit()
        exports.adopt(staged, snapshot_id)
    finally:
        staged.unlink(missing_ok=True)
    snapshot = session.get_one(Snapshot, snapshot_id)
    audit.record(
        session,
        actor=caller.actor,
        action="snapshot.publish",
        subject=snapshot_id,
        sequence=sequence,
        label=label,
        factor_count=frozen.count,
    )
    return _publish_document(snapshot, created=True)


class _Background:
    """Run `work(*args)` on a thread; `result()` waits and re-raises its exception here."""

    def __init__(self, work: Callable[..., Any], *args: Any) -> None:
        self._outcome: list[Any] = []
        self._thread = threading.Thread(target=self._run, args=(work, args), daemon=True)
        self._thread.start()

    def _run(self, work: Callable[..., Any], args: tuple[Any, ...]) -> None:
        try:
            self._outcome.append((True, work(*args)))
        except BaseException as exc:  # handed to the caller by result()
            self._outcome.append((False, exc))

    def wait(self) -> None:
        self._thread.join()

    def result(self) -> Any:
        self.wait()
        ok, value = self._outcome[0]
        if not ok:
            raise value
        return value


def _freeze(session: Session) -> None:
    """Copy the (factor, current revision) pairs once, so every later read sees one state.

    With each factor's ID, provider and code beside them (they never change), so reading
    the rows joins only the revisions.
    """
    session.execute(text(f"DROP TABLE IF EXISTS {FREEZE}"))
    session.execute(
        text(
            f"CREATE TEMPORARY TABLE {FREEZE} AS "
            "SELECT f.id AS factor_pk, f.current_revision_id AS revision_pk, "
            "f.factor_id AS factor, o.slug AS provider, f.code "
            "FROM factor f JOIN organisation o ON o.id = f.organisation_id "
            "WHERE f.current_revision_id IS NOT NULL"
        )
    )


def _check_label(label: str | None) -> str | None:
    if label is None:
        return None
    if not LABEL_RE.match(label) or SNAPSHOT_PREFIX_RE.match(label):
        raise ValidationFailed(
            f"invalid label {label[:60]!r}: use letters, digits, '.', '_' or '-' (at most 128), "
            "and not something that reads as a snapshot ID prefix (8+ hex digits)",
            errors=[{"field": "label", "value": label[:60], "reason": "invalid label"}],
        )
    return label


def _label_holder(session: Session, label: str) -> Any:
    return session.execute(
        select(Snapshot.id, Snapshot.sequence).where(Snapshot.label == label)
    ).first()


def _require_free_label(session: Session, label: str) -> None:
    holder = _label_holder(session, label)
    if holder is not None:
        raise Conflict(
            f"label {label!r} already names snapshot {holder.id[:12]} (sequence {holder.sequence})"
        )


def _publish_document(snapshot: Snapshot, *, created: bool) -> dict[str, Any]:
    return {
        "snapshot_id": snapshot.id,
        "sequence": snapshot.sequence,
        "label": snapshot.label,
        "parent": snapshot.parent,
        "factor_count": snapshot.factor_count,
        "created": created,
    }


def list_snapshots(
    session: Session, *, cursor: str | None = None, limit: int | None = None
) -> dict[str, Any]:
    """Snapshots in sequence order, keyset-paged."""
    query = select(*_SUMMARY_COLUMNS)
    page = paginate(session, query, keys=[Snapshot.sequence], cursor=cursor, limit=limit)
    return {
        "items": [_summary(row._mapping) for row in page.rows],
        "next_cursor": page.next_cursor,
    }


def show(session: Session, ref: str) -> dict[str, Any]:
    """One snapshot's document (`schemas/snapshot.json`)."""
    return describe(session, get_snapshot(session, ref))


def describe(session: Session, snapshot: Snapshot) -> dict[str, Any]:
    publisher = None
    if snapshot.publisher_id is not None:
        row = session.execute(
            select(Organisation.slug, Principal.role)
            .join(Principal, Principal.organisation_id == Organisation.id)
            .where(Principal.id == snapshot.publisher_id)
        ).first()
        publisher = f"{row.slug}/{row.role}#{snapshot.publisher_id}" if row else None
    return {
        **_summary(
            {c.key: getattr(snapshot, c.key) for c in _SUMMARY_COLUMNS} | {"id": snapshot.id}
        ),
        "parent": snapshot.parent,
        "publisher": publisher,
        "deprecated_reason": snapshot.deprecated_reason,
        "sealed": snapshot.sealed,
    }


def deprecate(session: Session, *, caller: Caller, ref: str, reason: str) -> dict[str, Any]:
    """Mark a snapshot deprecated with a reason; its content and ID do not change.

    Admin only. A snapshot already deprecated raises `Conflict` (the first reason stands).
    """
    require_role(caller, "admin")
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON or "\x00" in reason:
        raise ValidationFailed(
            f"a deprecation needs a reason of 1 to {MAX_REASON} characters",
            errors=[{"field": "reason", "reason": "empty or too long"}],
        )
    snapshot = get_snapshot(session, ref)
    if snapshot.deprecated:
        raise Conflict(
            f"snapshot {snapshot.id[:12]} is already deprecated: {snapshot.deprecated_reason}"
        )
    session.execute(
        update(Snapshot)
        .where(Snapshot.id == snapshot.id)
        .values(deprecated=True, deprecated_reason=reason)
    )
    session.flush()
    session.refresh(snapshot)
    audit.record(
        session, actor=caller.actor, action="snapshot.deprecate", subject=snapshot.id, reason=reason
    )
    return describe(session, snapshot)


_SUMMARY_COLUMNS = (
    Snapshot.id,
    Snapshot.sequence,
    Snapshot.label,
    Snapshot.published_at,
    Snapshot.factor_count,
    Snapshot.deprecated,
)


def _summary(row: Any) -> dict[str, Any]:
    return {
        "snapshot_id": row["id"],
        "sequence": row["sequence"],
        "label": row["label"],
        "published_at": iso_utc(row["published_at"]),
        "factor_count": row["factor_count"],
        "deprecated": bool(row["deprecated"]),
    }
