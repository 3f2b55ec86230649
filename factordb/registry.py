"""Queries of the live registry: factor search and one factor's history, scoped to the caller.

Visibility is part of every query, never a filter applied afterwards: an approved
revision is visible to every caller; a provider also sees its own organisation's
revisions whatever their status. Another provider's unpublished revision is never
selected, so it cannot leak through a row, a count or a cursor.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import Session, aliased

from factordb.db import inline_pattern
from factordb.errors import NotFound, ValidationFailed
from factordb.identifiers import SLUG_RE, parse_factor_id
from factordb.models import (
    ClassificationNode,
    Factor,
    FactorRevision,
    Geography,
    Organisation,
    Review,
)
from factordb.pagination import decode_cursor, paginate
from factordb.principals import Caller
from factordb.reference import subtree_clause
from factordb.revisions import CONTENT_FIELDS

# A provider's own work in progress shows in its searches beside the approved factors.
OPEN_STATUSES = ("submitted", "in_review", "changes_requested", "rejected")
CONTENT_COLUMNS = CONTENT_FIELDS
SEARCH_COLUMNS = (
    FactorRevision.revision_id,
    FactorRevision.number,
    FactorRevision.status,
    Factor.factor_id,
    Organisation.slug.label("provider"),
    *(getattr(FactorRevision, c) for c in CONTENT_COLUMNS),
)
MAX_TEXT = 200
# Built once: constructing a 36-column select costs more CPU than running it.
PUBLIC_SEARCH = (
    select(*SEARCH_COLUMNS)
    .select_from(FactorRevision)
    .join(Factor, Factor.current_revision_id == FactorRevision.id)
    .join(Organisation, Organisation.id == FactorRevision.organisation_id)
)
OWNER_SEARCH = (
    select(*SEARCH_COLUMNS)
    .select_from(FactorRevision)
    .join(Factor, Factor.id == FactorRevision.factor_pk)
    .join(Organisation, Organisation.id == FactorRevision.organisation_id)
)


def _is_owner_provider(caller: Caller) -> bool:
    return caller.role == "provider"


def _check_text(field: str, value: str | None, *, slug: bool = False) -> str | None:
    if value is None:
        return None
    problem = None
    if "\x00" in value or len(value) > MAX_TEXT:
        problem = f"at most {MAX_TEXT} characters, no NUL"
    elif slug and not SLUG_RE.match(value):
        problem = "expected a code such as material.cathode or cnbrc"
    if problem:
        raise ValidationFailed(
            f"invalid {field} {value[:40]!r}",
            errors=[{"field": field, "value": value[:40], "reason": problem}],
        )
    return value


def _require_known(session: Session, field: str, column: Any, value: str) -> None:
    if session.execute(select(column).where(column == value)).first() is None:
        raise ValidationFailed(
            f"unknown {field} {value!r}",
            errors=[{"field": field, "value": value, "reason": f"no such {field}"}],
        )


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _unit_filter(unit: str) -> str:
    """`kg` or `kgCO2e/kg` both name the base activity unit `kg`."""
    return unit.rsplit("/", 1)[-1].strip()


def search_factors(
    session: Session,
    *,
    caller: Caller,
    classification: str | None = None,
    geography: str | None = None,
    year: int | None = None,
    unit: str | None = None,
    provider: str | None = None,
    q: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """One page of the factors the caller may see, in revision-ID order.

    Every caller sees each factor's current approved revision; a provider also sees,
    for its own factors, the latest revision while it is open (submitted, in review,
    changes requested, rejected). `classification` matches its whole subtree, `q` is
    case-insensitive text in the name, the factor ID or the source. Unknown codes raise
    `ValidationFailed` naming the field.
    """
    _check_text("classification", classification, slug=True)
    _check_text("geography", geography)
    _check_text("provider", provider, slug=True)
    _check_text("unit", unit)
    _check_text("q", q)
    if cursor is not None:
        _check_cursor(cursor)
    if classification:
        _require_known(session, "classification", ClassificationNode.code, classification)
    if geography:
        _require_known(session, "geography", Geography.code, geography)
    if provider:
        _require_known(session, "provider", Organisation.slug, provider)

    if _is_owner_provider(caller):
        query = OWNER_SEARCH.where(
            or_(
                FactorRevision.id == Factor.current_revision_id,
                and_(
                    FactorRevision.organisation_id == caller.organisation_id,
                    FactorRevision.number == Factor.latest_number,
                    FactorRevision.status.in_(OPEN_STATUSES),
                ),
            )
        )
    else:
        query = PUBLIC_SEARCH
    if classification:
        query = query.where(subtree_clause(FactorRevision.classification, classification))
    if geography:
        query = query.where(FactorRevision.geography == geography)
    if year is not None:
        query = query.where(FactorRevision.reference_year == year)
    if unit:
        query = query.where(FactorRevision.unit == _unit_filter(unit))
    if provider:
        query = query.where(Organisation.slug == provider)
    if q:
        pattern = inline_pattern("%" + _like_escape(q) + "%")
        query = query.where(
            or_(
                FactorRevision.name.ilike(pattern, escape="\\"),
                FactorRevision.revision_id.ilike(pattern, escape="\\"),
                FactorRevision.source.ilike(pattern, escape="\\"),
            )
        )
    page = paginate(session, query, keys=[FactorRevision.revision_id], cursor=cursor, limit=limit)
    return {"items": [_summary(row._mapping) for row in page.rows], "next_cursor": page.next_cursor}


def _check_cursor(cursor: str) -> None:
    (value,) = decode_cursor(cursor, 1)
    if not isinstance(value, str) or "\x00" in value or len(value) > 300:
        raise ValidationFailed(f"invalid cursor {cursor[:40]!r}")


def _content(row: Any) -> dict[str, Any]:
    content = {c: row[c] for c in CONTENT_COLUMNS}
    for day in ("valid_from", "valid_to"):
        if content[day] is not None:
            content[day] = content[day].isoformat()
    return content


def _summary(row: Any) -> dict[str, Any]:
    return {
        "factor": row["factor_id"],
        "revision": row["revision_id"],
        "number": row["number"],
        "status": row["status"],
        "provider": row["provider"],
        **_content(row),
    }


def _visible(caller: Caller) -> Any:
    return _visibility(_is_owner_provider(caller), caller.organisation_id)


def _visibility(owner: bool, organisation: Any) -> Any:
    """Approved revisions, plus for a provider its own organisation's (`organisation`)."""
    approved = FactorRevision.status == "approved"
    return or_(approved, FactorRevision.organisation_id == organisation) if owner else approved


REVISION_COLUMNS = (
    "id",
    "revision_id",
    "number",
    "status",
    "status_changed_at",
    "submitted_at",
    "change_reason",
    "content_hash",
    "batch_id",
    "warnings",
    "organisation_id",
    *CONTENT_COLUMNS,
)
Reviewer = aliased(Organisation, name="reviewer")
DETAIL_COLUMNS = (
    Factor.factor_id,
    Factor.code,
    Factor.current_revision_id,
    Factor.created_at.label("factor_created_at"),
    Organisation.slug.label("provider"),
    *(getattr(FactorRevision, c) for c in REVISION_COLUMNS),
    Reviewer.slug.label("reviewer"),
    Review.decision,
    Review.comment.label("review_comment"),
    Review.decided_at,
)

DETAIL = (
    select(*DETAIL_COLUMNS)
    .join(Organisation, Organisation.id == Factor.organisation_id)
    .join(FactorRevision, FactorRevision.factor_pk == Factor.id)
    .outerjoin(Review, Review.revision_pk == FactorRevision.id)
    .outerjoin(Reviewer, Reviewer.id == Review.organisation_id)
    .order_by(FactorRevision.number, Review.decided_at, Review.id)
)

# Prebuilt with bound parameters: SQLAlchemy caches their compiled form and cache key,
# which for a one-row lookup costs more than the query itself when rebuilt per call.
_DETAIL_APPROVED = DETAIL.where(
    Factor.factor_id == bindparam("factor_id"), _visibility(False, None)
)
_DETAIL_FOR_PROVIDER = DETAIL.where(
    Factor.factor_id == bindparam("factor_id"), _visibility(True, bindparam("organisation"))
)


def factor_detail(session: Session, *, caller: Caller, factor_id: str) -> dict[str, Any]:
    """The factor and every revision the caller may see, oldest first, with decisions.

    A factor none of whose revisions the caller may see raises `NotFound`, exactly as
    a factor that does not exist. Reviewers appear as their organisation's slug. One
    query: revisions × their decisions (a handful of rows for any real factor).
    """
    parse_factor_id(factor_id)
    if _is_owner_provider(caller):
        statement = _DETAIL_FOR_PROVIDER
        params = {"factor_id": factor_id, "organisation": caller.organisation_id}
    else:
        statement, params = _DETAIL_APPROVED, {"factor_id": factor_id}
    rows = session.connection().execute(statement, params).all()
    if not rows:
        raise NotFound(f"no factor {factor_id!r}")
    head = rows[0]
    owner = _is_owner_provider(caller) and head.organisation_id == caller.organisation_id
    revisions: dict[int, dict[str, Any]] = {}
    for row in rows:
        revision = revisions.get(row.id)
        if revision is None:
            revision = revisions[row.id] = _revision(row._mapping, owner=owner)
        if row.decision is not None:
            revision["decisions"].append(
                {
                    "organisation": row.reviewer,
                    "decision": row.decision,
                    "comment": row.review_comment,
                    "decided_at": row.decided_at,
                }
            )
    current = revisions.get(head.current_revision_id)
    return {
        "factor": head.factor_id,
        "provider": head.provider,
        "code": head.code,
        "current_revision": current["revision"] if current else None,
        "created_at": head.factor_created_at,
        "revisions": list(revisions.values()),
    }


def _revision(row: Any, *, owner: bool) -> dict[str, Any]:
    return {
        "revision": row["revision_id"],
        "number": row["number"],
        "status": row["status"],
        "status_changed_at": row["status_changed_at"],
        "submitted_at": row["submitted_at"],
        "change_reason": row["change_reason"],
        "content_hash": row["content_hash"],
        "batch_id": row["batch_id"] if owner else None,
        "warnings": _warnings(row["warnings"]),
        "decisions": [],
        **_content(row),
    }


def _warnings(raw: str | None) -> list[dict[str, Any]]:
    try:
        value = json.loads(raw or "[]")
    except ValueError:
        return []
    return (
        [w if isinstance(w, dict) else {"detail": str(w)} for w in value]
        if isinstance(value, list)
        else []
    )
