"""Snapshot operations: publish, resolve, list, show, deprecate; the rest re-exported.

Routes and commands call these (one call each). Services flush and never commit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text, update
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
from snapshots.fileformat import iso_utc, tree_json
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
    _freeze(session)
    table = rows.fetch(session, FREEZE)
    if table.num_rows == 0:
        raise Conflict("nothing to publish: no factor has an approved revision")
    with exports.SortedRows(table) as frozen:
        del table
        document = _publish_frozen(session, caller=caller, label=label, frozen=frozen)
    # On failure the rollback drops the temporary table with everything else.
    session.execute(text(f"DROP TABLE {FREEZE}"))
    return document


def _publish_frozen(
    session: Session, *, caller: Caller, label: str | None, frozen: exports.SortedRows
) -> dict[str, Any]:
    """Hash the frozen rows; return the existing snapshot or insert, fill and seal a new one."""
    tree = tree_json(reference.nodes(session), reference.geographies(session))
    snapshot_id = frozen.content_id(tree)
    existing = session.get(Snapshot, snapshot_id)
    if existing is not None:
        return _publish_document(existing, created=False)
    if label is not None:
        _require_free_label(session, label)
    latest = session.execute(
        select(Snapshot).order_by(Snapshot.sequence.desc()).limit(1)
    ).scalar_one_or_none()
    snapshot = Snapshot(
        id=snapshot_id,
        sequence=(latest.sequence + 1) if latest else 1,
        label=label,
        parent=latest.id if latest else None,
        factor_count=frozen.count,
        tree=tree,
        published_at=datetime.now(UTC),
        publisher_id=caller.principal_id or None,
    )
    session.add(snapshot)
    session.flush()
    # The database fills the snapshot while DuckDB writes its export on another core.
    writer = _Background(frozen.write_with, snapshot_id, exports.manifest_of(snapshot))
    try:
        session.execute(
            text(
                "INSERT INTO snapshot_factor (snapshot_id, factor_pk, revision_pk) "
                f"SELECT :id, factor_pk, revision_pk FROM {FREEZE}"
            ),
            {"id": snapshot_id},
        )
        session.execute(update(Snapshot).where(Snapshot.id == snapshot_id).values(sealed=True))
        session.flush()
    except BaseException:
        writer.wait()  # the database's error is the one to report
        raise
    writer.result()
    audit.record(
        session,
        actor=caller.actor,
        action="snapshot.publish",
        subject=snapshot_id,
        sequence=snapshot.sequence,
        label=label,
        factor_count=snapshot.factor_count,
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
    """Copy the (factor, current revision) pairs once, so every later read sees one state."""
    session.execute(text(f"DROP TABLE IF EXISTS {FREEZE}"))
    session.execute(
        text(
            f"CREATE TEMPORARY TABLE {FREEZE} AS "
            "SELECT id AS factor_pk, current_revision_id AS revision_pk FROM factor "
            "WHERE current_revision_id IS NOT NULL"
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


def _require_free_label(session: Session, label: str) -> None:
    holder = session.execute(
        select(Snapshot.id, Snapshot.sequence).where(Snapshot.label == label)
    ).first()
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
