"""Citation manifests: resolve the snapshot, check every entry, record idempotently.

A manifest names a sealed snapshot and revisions it holds; each problem is reported
with its place in the body, and one problem rejects the whole manifest. The content
hash covers the snapshot, the calculation time and the (revision, share) pairs, so a
retried POST finds its manifest again while a new calculation supersedes it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from factordb import audit
from factordb.errors import Conflict, NotFound, ValidationFailed
from factordb.hashing import canonical_number, sha256_json
from factordb.identifiers import REVISION_ID_RE
from factordb.models import (
    CitationEntry,
    CitationManifest,
    Factor,
    FactorRevision,
    SnapshotFactor,
)
from factordb.principals import Caller
from snapshots.resolve import get_snapshot, sequence_of

MAX_ENTRIES = 10_000
CLOCK_SKEW = timedelta(minutes=5)
PUBLIC_STATUSES = ("approved", "superseded")


def utc(moment: datetime | None) -> datetime | None:
    """Aware UTC; SQLite hands back naive UTC, and naive input is taken as UTC."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def find_snapshot(session: Session, ref: str) -> tuple[str | None, str]:
    """(full ID, "") for a snapshot's ID, unique prefix of 8+ hex digits or label;
    otherwise (None, why). Snapshots still being published are not committed, so unseen."""
    try:
        return get_snapshot(session, ref).id, ""
    except (NotFound, ValidationFailed) as exc:
        return None, exc.detail


def resolve_snapshot(session: Session, ref: str) -> str:
    """The full ID of a snapshot, or NotFound / ValidationFailed (ambiguous prefix)."""
    return get_snapshot(session, ref).id


@dataclass(frozen=True)
class _Entry:
    index: int
    revision: str
    share: float | None


def _problem(loc: list[str | int], value: Any, code: str, reason: str) -> dict[str, Any]:
    return {
        "loc": loc,
        "field": ".".join(str(p) for p in loc),
        "value": value,
        "code": code,
        "reason": reason,
    }


def parse_entries(revisions: list[Any], problems: list[dict[str, Any]]) -> list[_Entry]:
    """The well-formed entries; each malformed one (ID, share, duplicate) adds a problem."""
    if not isinstance(revisions, list) or not revisions:
        problems.append(
            _problem(["revisions"], revisions, "empty", "a manifest lists at least one revision")
        )
        return []
    if len(revisions) > MAX_ENTRIES:
        problems.append(
            _problem(["revisions"], len(revisions), "too_many", f"at most {MAX_ENTRIES} revisions")
        )
        return []
    entries: list[_Entry] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(revisions):
        item = raw.model_dump() if hasattr(raw, "model_dump") else raw
        revision, share = (item, None) if isinstance(item, str) else (None, None)
        if isinstance(item, dict):
            revision, share = item.get("revision"), item.get("share")
        loc: list[str | int] = ["revisions", index]
        if not isinstance(revision, str) or not REVISION_ID_RE.match(revision):
            problems.append(
                _problem(
                    loc,
                    raw if not hasattr(raw, "model_dump") else item,
                    "invalid_revision_id",
                    f"{revision!r} is not a revision ID PROVIDER:CODE@N",
                )
            )
            continue
        if share is not None and (
            isinstance(share, bool)
            or not isinstance(share, int | float)
            or not math.isfinite(share)
            or not 0 <= share <= 1
        ):
            problems.append(
                _problem([*loc, "share"], share, "invalid_share", "a share is a number from 0 to 1")
            )
            continue
        if revision in seen:
            problems.append(
                _problem(
                    loc,
                    revision,
                    "duplicate_revision",
                    f"{revision} is listed twice (also at {seen[revision]})",
                )
            )
            continue
        seen[revision] = index
        entries.append(_Entry(index, revision, None if share is None else float(share)))
    return entries


def _match_snapshot(
    session: Session, snapshot_id: str, entries: list[_Entry], problems: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Check each revision against the snapshot in one query; rows to insert when all hold."""
    held = aliased(FactorRevision)
    rows = session.execute(
        select(
            FactorRevision.revision_id,
            FactorRevision.id,
            FactorRevision.factor_pk,
            FactorRevision.status,
            Factor.organisation_id,
            Factor.factor_id,
            SnapshotFactor.revision_pk.label("held_pk"),
            held.revision_id.label("held_id"),
        )
        .join(Factor, Factor.id == FactorRevision.factor_pk)
        .outerjoin(
            SnapshotFactor,
            and_(
                SnapshotFactor.snapshot_seq == sequence_of(snapshot_id),
                SnapshotFactor.factor_pk == FactorRevision.factor_pk,
            ),
        )
        .outerjoin(held, held.id == SnapshotFactor.revision_pk)
        .where(FactorRevision.revision_id.in_([e.revision for e in entries]))
    ).all()
    by_id = {row.revision_id: row for row in rows}
    good: list[dict[str, Any]] = []
    for entry in entries:
        row = by_id.get(entry.revision)
        loc: list[str | int] = ["revisions", entry.index]
        public = row is not None and row.status in PUBLIC_STATUSES
        if row is not None and row.held_pk == row.id:
            good.append(
                {
                    "revision_pk": row.id,
                    "factor_pk": row.factor_pk,
                    "provider_id": row.organisation_id,
                    "share": entry.share,
                    "revision": row.revision_id,
                    "factor": row.factor_id,
                }
            )
        elif public and row.held_pk is not None:
            problems.append(
                _problem(
                    loc,
                    entry.revision,
                    "revision_mismatch",
                    f"snapshot {snapshot_id[:12]} holds {row.held_id}, not {entry.revision}",
                )
            )
        elif public:
            problems.append(
                _problem(
                    loc,
                    entry.revision,
                    "not_in_snapshot",
                    f"{row.factor_id} is not in snapshot {snapshot_id[:12]}",
                )
            )
        else:
            problems.append(
                _problem(
                    loc,
                    entry.revision,
                    "unknown_revision",
                    f"no published revision {entry.revision}",
                )
            )
    return good


def content_hash(
    snapshot_id: str, calculated_at: datetime | None, entries: list[dict[str, Any]]
) -> str:
    pairs = sorted(
        [e["revision"], None if e["share"] is None else canonical_number(e["share"])]
        for e in entries
    )
    stamp = calculated_at.isoformat() if calculated_at else None
    return sha256_json({"snapshot_id": snapshot_id, "calculated_at": stamp, "revisions": pairs})


def check_declaration(declaration: Any, problems: list[dict[str, Any]]) -> None:
    """1–200 printable characters, not only spaces; otherwise adds a problem."""
    if not isinstance(declaration, str) or not declaration.strip():
        problems.append(
            _problem(["declaration"], declaration, "empty", "a declaration reference is required")
        )
    elif len(declaration) > 200 or any(ord(c) < 32 for c in declaration):
        problems.append(
            _problem(
                ["declaration"],
                declaration,
                "invalid_declaration",
                "a declaration reference has at most 200 printable characters",
            )
        )


def validate(
    session: Session,
    *,
    snapshot: str,
    declaration: str,
    revisions: list[Any],
    calculated_at: datetime | None,
    now: datetime,
) -> tuple[str, list[dict[str, Any]]]:
    """(full snapshot ID, entry rows) or ValidationFailed listing every problem."""
    problems: list[dict[str, Any]] = []
    check_declaration(declaration, problems)
    if calculated_at is not None and calculated_at > now + CLOCK_SKEW:
        problems.append(
            _problem(
                ["calculated_at"],
                calculated_at.isoformat(),
                "in_future",
                "calculated_at lies in the future",
            )
        )
    snapshot_id, reason = (
        find_snapshot(session, snapshot) if isinstance(snapshot, str) else (None, "")
    )
    if snapshot_id is None:
        problems.append(
            _problem(
                ["snapshot_id"],
                snapshot,
                "unknown_snapshot",
                reason or "a snapshot reference is required",
            )
        )
    entries = parse_entries(revisions, problems)
    rows = (
        _match_snapshot(session, snapshot_id, entries, problems) if snapshot_id and entries else []
    )
    if problems:
        raise ValidationFailed(
            f"citation manifest rejected: {len(problems)} problem(s)", errors=problems
        )
    assert snapshot_id is not None
    return snapshot_id, rows


def current_head(session: Session, organisation_id: int, declaration: str) -> int | None:
    successor = aliased(CitationManifest)
    return session.execute(
        select(CitationManifest.id).where(
            CitationManifest.organisation_id == organisation_id,
            CitationManifest.declaration == declaration,
            ~exists().where(successor.supersedes_id == CitationManifest.id),
        )
    ).scalar_one_or_none()


def find_by_hash(
    session: Session, organisation_id: int, declaration: str, digest: str
) -> int | None:
    return session.execute(
        select(CitationManifest.id).where(
            CitationManifest.organisation_id == organisation_id,
            CitationManifest.declaration == declaration,
            CitationManifest.content_hash == digest,
        )
    ).scalar_one_or_none()


def insert_manifest(
    session: Session,
    *,
    caller: Caller,
    snapshot_id: str,
    declaration: str,
    calculated_at: datetime | None,
    rows: list[dict[str, Any]],
    now: datetime,
) -> tuple[int, bool]:
    """(manifest ID, created). A retry finds the same manifest; a race on the chain is a Conflict."""
    digest = content_hash(snapshot_id, calculated_at, rows)
    existing = find_by_hash(session, caller.organisation_id, declaration, digest)
    if existing is not None:
        return existing, False
    head = current_head(session, caller.organisation_id, declaration)
    manifest = CitationManifest(
        organisation_id=caller.organisation_id,
        principal_id=caller.principal_id,
        declaration=declaration,
        snapshot_id=snapshot_id,
        content_hash=digest,
        supersedes_id=head,
        calculated_at=calculated_at,
        posted_at=now,
        month=now.strftime("%Y-%m"),
    )
    try:
        with session.begin_nested():
            session.add(manifest)
            session.flush()
            session.execute(
                insert(CitationEntry),
                [
                    {
                        "manifest_id": manifest.id,
                        "revision_pk": r["revision_pk"],
                        "factor_pk": r["factor_pk"],
                        "provider_id": r["provider_id"],
                        "share": r["share"],
                    }
                    for r in rows
                ],
            )
    except IntegrityError as exc:
        # Another writer recorded this declaration first: the same manifest is a retry.
        existing = find_by_hash(session, caller.organisation_id, declaration, digest)
        if existing is not None:
            return existing, False
        raise Conflict(
            f"declaration {declaration!r} got another manifest at the same time; retry"
        ) from exc
    audit.record(
        session,
        actor=caller.actor,
        action="citation.post",
        subject=f"{caller.organisation}/{declaration}",
        manifest=manifest.id,
        snapshot=snapshot_id,
        revisions=len(rows),
        supersedes=head,
        content_hash=digest,
    )
    return manifest.id, True  # type: ignore[return-value]


def utcnow() -> datetime:
    return datetime.now(UTC)
