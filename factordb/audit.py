"""The append-only audit log with a hash chain.

`record` queues events on the session; they are written just before commit under a
lock (advisory on PostgreSQL, the write lock on SQLite), so concurrent writers extend
one chain instead of forking it, and the lock is held only for that instant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, insert, select, text
from sqlalchemy.orm import Session

from factordb.hashing import canonical_json, sha256_bytes
from factordb.models import AuditEvent

GENESIS = "0" * 64
AUDIT_LOCK_KEY = 7_281_945_001
_PENDING = "factordb_audit_pending"


def record(session: Session, *, actor: str, action: str, subject: str, **data: Any) -> None:
    session.info.setdefault(_PENDING, []).append(
        {
            "at": datetime.now(UTC),
            "actor": actor,
            "action": action,
            "subject": subject,
            "data": data,
        }
    )


def _stamp(at: datetime) -> str:
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(
    prev_hash: str, *, at: datetime, actor: str, action: str, subject: str, data: str
) -> str:
    payload = canonical_json(
        {"at": _stamp(at), "actor": actor, "action": action, "subject": subject, "data": data}
    )
    return sha256_bytes((prev_hash + payload).encode("utf-8"))


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK_KEY})
    prev = session.execute(
        select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).scalar_one_or_none()
    prev = prev or GENESIS
    rows = []
    for item in pending:
        data = canonical_json(item["data"])
        digest = event_hash(
            prev,
            at=item["at"],
            actor=item["actor"],
            action=item["action"],
            subject=item["subject"],
            data=data,
        )
        rows.append({**item, "data": data, "prev_hash": prev, "hash": digest})
        prev = digest
    session.execute(insert(AuditEvent), rows)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events: int
    first_bad: int | None

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "events": self.events, "first_bad": self.first_bad}


def verify_chain(session: Session, *, batch: int = 10_000) -> ChainReport:
    """Recompute every hash in order; the first event that does not match is reported."""
    prev = GENESIS
    count = 0
    last_id = 0
    while True:
        rows = (
            session.execute(
                select(AuditEvent)
                .where(AuditEvent.id > last_id)
                .order_by(AuditEvent.id)
                .limit(batch)
            )
            .scalars()
            .all()
        )
        if not rows:
            return ChainReport(True, count, None)
        for row in rows:
            expected = event_hash(
                prev,
                at=row.at,
                actor=row.actor,
                action=row.action,
                subject=row.subject,
                data=row.data,
            )
            if row.prev_hash != prev or row.hash != expected:
                return ChainReport(False, count, row.id)
            prev = row.hash
            count += 1
            last_id = row.id
