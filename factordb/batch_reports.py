"""Ingest batches and their stored validation reports, as their provider may see them.

The report is the document `factordb ingest --json` printed when the batch was loaded
(`schemas/ingest-report.json`), kept on `IngestBatch.report`. A provider sees its own
organisation's batches, an admin every batch; anyone else, or another provider, gets
NotFound, exactly as for a batch that does not exist.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select, true, tuple_
from sqlalchemy.orm import Session

from factordb.errors import NotFound, PermissionDenied, ValidationFailed
from factordb.models import IngestBatch
from factordb.pagination import clamp_limit, decode_cursor, encode_cursor
from factordb.principals import Caller


def _scope(caller: Caller) -> Any:
    if caller.role == "admin":
        return true()
    if caller.role == "provider":
        return IngestBatch.organisation_id == caller.organisation_id
    raise PermissionDenied(f"batches are visible to their provider and admins, not {caller.role}")


def _report(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _document(batch: IngestBatch) -> dict[str, Any]:
    report = _report(batch.report)
    return {
        "batch_id": batch.id,
        "filename": batch.filename,
        "file_sha256": batch.file_sha256,
        "status": batch.status,
        "rows": batch.rows,
        "created_at": batch.created_at,
        "new_factors": report.get("new_factors"),
        "new_revisions": report.get("new_revisions"),
        "unchanged": report.get("unchanged"),
        "errors": [e for e in report.get("errors") or [] if isinstance(e, dict)],
        "warnings": [w for w in report.get("warnings") or [] if isinstance(w, dict)],
    }


def list_batches(
    session: Session, *, caller: Caller, cursor: str | None = None, limit: int | None = None
) -> dict[str, Any]:
    """The caller's batches, newest first, each with its report; keyset-paged."""
    size = clamp_limit(limit)
    query = select(IngestBatch).where(_scope(caller))
    if cursor:
        moment, last_id = decode_cursor(cursor, 2)
        try:
            after = datetime.fromisoformat(str(moment))
        except ValueError as exc:
            raise ValidationFailed(f"invalid cursor {cursor[:40]!r}") from exc
        query = query.where(
            tuple_(IngestBatch.created_at, IngestBatch.id) < tuple_(after, str(last_id))
        )
    rows = (
        session.execute(
            query.order_by(IngestBatch.created_at.desc(), IngestBatch.id.desc()).limit(size + 1)
        )
        .scalars()
        .all()
    )
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        next_cursor = encode_cursor([rows[-1].created_at.isoformat(), rows[-1].id])
    return {"items": [_document(b) for b in rows], "next_cursor": next_cursor}


def get_batch(session: Session, *, caller: Caller, batch_id: str) -> dict[str, Any]:
    """One batch and its report; NotFound when missing or not the caller's."""
    batch = session.execute(
        select(IngestBatch).where(IngestBatch.id == batch_id, _scope(caller))
    ).scalar_one_or_none()
    if batch is None:
        raise NotFound(f"no batch {batch_id!r}")
    return _document(batch)
