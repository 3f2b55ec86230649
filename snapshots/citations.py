"""The citation registry: who cited which factor revisions of which snapshot.

An accounting tool records a manifest per declaration (IDs only, never activity data);
a provider sees the citations of its own factors, a citing organisation its own
manifests, a verifier the manifests of a declaration it names, an operator all.

Visibility of history: aggregates and impact count only each declaration's current
manifest; detail rows show superseded manifests too when `history` is asked for, each
marked `current: false` with the manifest it replaced.

Scale: every query is scoped and keyset-paged along an index (see `citation_queries`);
`CitationManifest.month` is the partition key if PostgreSQL ever partitions the tables
by month (docs in the issue's report; not needed at 10 million entries).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from factordb.errors import NotFound, PermissionDenied, ValidationFailed
from factordb.identifiers import parse_factor_id
from factordb.models import CitationEntry, CitationManifest, Factor
from factordb.pagination import clamp_limit, decode_cursor, encode_cursor
from factordb.principals import Caller, require_role
from snapshots import citation_queries as q
from snapshots.citation_manifests import insert_manifest, resolve_snapshot, utc, validate
from snapshots.citation_schemas import (
    CitationAggregate,
    CitationDetail,
    CitationReport,
    ErrataReport,
    ErratumItem,
    ImpactFactor,
    ImpactItem,
    ImpactReport,
    ManifestEntry,
    ManifestRecord,
)

END = "end"


def record_manifest(
    session: Session,
    *,
    caller: Caller,
    snapshot: str,
    declaration: str,
    revisions: list[Any],
    calculated_at: datetime | None = None,
    now: datetime | None = None,
) -> ManifestRecord:
    """Record that `declaration` of the caller's organisation used `revisions` of `snapshot`.

    `revisions` holds revision IDs or `{"revision", "share"}` objects. Raises
    ValidationFailed listing every problem (nothing is written), PermissionDenied for
    a role other than accountant, Conflict when another manifest for the declaration
    raced this one. `now` is the posting time (tests and imports of history set it).
    """
    require_role(caller, "accountant")
    now = utc(now) or datetime.now(UTC)
    calculated_at = utc(calculated_at)
    snapshot_id, rows = validate(
        session,
        snapshot=snapshot,
        declaration=declaration,
        revisions=revisions,
        calculated_at=calculated_at,
        now=now,
    )
    manifest_id, created = insert_manifest(
        session,
        caller=caller,
        snapshot_id=snapshot_id,
        declaration=declaration,
        calculated_at=calculated_at,
        rows=rows,
        now=now,
    )
    return _record(session, manifest_id, created=created)


def _record(session: Session, manifest_id: int, *, created: bool) -> ManifestRecord:
    row = q.manifest_row(session, manifest_id)
    manifest = row[0]
    return ManifestRecord(
        manifest=manifest.id,
        declaration=manifest.declaration,
        citing_org=row.citing_org,
        snapshot_id=manifest.snapshot_id,
        content_hash=manifest.content_hash,
        calculated_at=utc(manifest.calculated_at),
        posted_at=utc(manifest.posted_at),
        supersedes=manifest.supersedes_id,
        superseded_by=row.superseded_by,
        current=row.superseded_by is None,
        created=created,
        revisions=[
            ManifestEntry(revision=e.revision_id, factor=e.factor_id, share=e.share)
            for e in q.manifest_entries(session, manifest_id)
        ],
    )


def _scope(caller: Caller, declaration: str | None) -> tuple[str, list[ColumnElement[bool]]]:
    """The view a role gets, as WHERE predicates."""
    if caller.role == "provider":
        return "provider", [CitationEntry.provider_id == caller.organisation_id]
    if caller.role == "accountant":
        return "accountant", [CitationManifest.organisation_id == caller.organisation_id]
    if caller.role == "verifier":
        if not declaration:
            raise ValidationFailed(
                "a verifier names the declaration to check: ?declaration=REF (--declaration)"
            )
        return "verifier", []
    if caller.role == "admin":
        return "admin", []
    raise PermissionDenied(f"citations are not visible to the {caller.role} role")


def _since(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return utc(value)  # type: ignore[return-value]
    return datetime.combine(value, time.min, tzinfo=UTC)


def _factor_pk(session: Session, factor: str) -> int:
    parse_factor_id(factor)
    pk = session.execute(select(Factor.id).where(Factor.factor_id == factor)).scalar_one_or_none()
    if pk is None:
        raise NotFound(f"no factor {factor}")
    return pk


def _positions(cursor: str | None) -> tuple[list[Any] | str | None, list[Any] | str | None]:
    if not cursor:
        return None, None
    items, details = decode_cursor(cursor, 2)
    for part, width in ((items, 4), (details, 2)):
        if part != END and not (isinstance(part, list) and len(part) == width):
            raise ValidationFailed(f"invalid cursor {cursor!r}")
    return items, details


def citation_report(
    session: Session,
    *,
    caller: Caller,
    factor: str | None = None,
    snapshot: str | None = None,
    since: date | datetime | None = None,
    declaration: str | None = None,
    history: bool = False,
    cursor: str | None = None,
    limit: int | None = None,
) -> CitationReport:
    """Aggregates per (factor, snapshot, citing org, month) and detail rows, in the caller's view.

    Both lists page together: `limit` rows of each per page, one cursor for both.
    Filters: a factor ID, a snapshot (ID, prefix or label), a posting date, a declaration.
    """
    view, where = _scope(caller, declaration)
    if factor:
        where.append(CitationEntry.factor_pk == _factor_pk(session, factor))
    if snapshot:
        where.append(CitationManifest.snapshot_id == resolve_snapshot(session, snapshot))
    if since is not None:
        where.append(CitationManifest.posted_at >= _since(since))
    if declaration:
        where.append(CitationManifest.declaration == declaration)
    size = clamp_limit(limit)
    item_pos, detail_pos = _positions(cursor)
    items: list[Any] = []
    details: list[Any] = []
    if item_pos != END:
        items = q.aggregate_page(session, where, item_pos, size)  # type: ignore[arg-type]
    if detail_pos != END:
        details = q.detail_page(session, where, detail_pos, size, history=history)  # type: ignore[arg-type]
    next_items: Any = END
    next_details: Any = END
    if len(items) > size:
        items = items[:size]
        last = items[-1]
        next_items = [last.factor_pk, last.snapshot_id, last.organisation_id, last.month]
    if len(details) > size:
        details = details[:size]
        next_details = [details[-1].manifest_id, details[-1].revision_pk]
    more = next_items != END or next_details != END
    return CitationReport(
        view=view,
        items=[
            CitationAggregate(
                factor=factor_of(r.revision),
                revision=r.revision,
                snapshot_id=r.snapshot_id,
                citing_org=r.citing_org,
                month=r.month,
                count=r.count,
                latest=utc(r.latest),
            )
            for r in items
        ],
        details=[
            CitationDetail(
                declaration=r.declaration,
                citing_org=r.citing_org,
                snapshot_id=r.snapshot_id,
                revision=r.revision,
                factor=factor_of(r.revision),
                cited_at=utc(r.posted_at),
                calculated_at=utc(r.calculated_at),
                share=r.share,
                manifest=r.manifest_id,
                supersedes=r.supersedes_id,
                current=bool(r.current),
            )
            for r in details
        ],
        next_cursor=encode_cursor([next_items, next_details]) if more else None,
    )


def factor_of(revision: str) -> str:
    """`cnbrc:ncm811-cam` of `cnbrc:ncm811-cam@2` (saves a join per row)."""
    return revision.rsplit("@", 1)[0]


def _relative(old: float, new: float | None) -> float | None:
    if new is None or old == 0:
        return None
    return (new - old) / abs(old)


def citation_impact(
    session: Session,
    *,
    caller: Caller,
    from_snapshot: str,
    to_snapshot: str,
    cursor: str | None = None,
    limit: int | None = None,
) -> ImpactReport:
    """Declarations whose current manifest cites a revision that A holds and B changed.

    A provider sees declarations citing its own factors (and only those factors); an
    accountant its own declarations (what would move if it re-pinned from A to B).
    Changed: B holds another revision with another value, or no longer holds the factor.
    """
    require_role(caller, "provider", "accountant")
    _, where = _scope(caller, None)
    from_id = resolve_snapshot(session, from_snapshot)
    to_id = resolve_snapshot(session, to_snapshot)
    size = clamp_limit(limit)
    after = int(decode_cursor(cursor, 1)[0]) if cursor else None
    provider = caller.organisation_id if caller.role == "provider" else None
    ids = q.impact_manifests(
        session, where, q.changed_factors(from_id, to_id, provider), after, size
    )
    next_cursor = encode_cursor([ids[size - 1]]) if len(ids) > size else None
    ids = ids[:size]
    grouped: dict[int, list[Any]] = {}
    changed = q.changed_factors(from_id, to_id, provider)
    for row in q.impact_rows(session, where, changed, ids) if ids else []:
        grouped.setdefault(row.manifest_id, []).append(row)
    items = []
    for manifest_id in ids:
        rows = grouped[manifest_id]
        factors = [
            ImpactFactor(
                factor=r.factor,
                old_revision=r.old_revision,
                new_revision=r.new_revision,
                old_value=r.old_value,
                new_value=r.new_value,
                unit=r.unit,
                relative_change=_relative(r.old_value, r.new_value),
                change="removed" if r.new_revision is None else "value_change",
            )
            for r in rows
        ]
        moved = [f for f in factors if f.relative_change is not None]
        largest = max(moved, key=lambda f: abs(f.relative_change or 0.0), default=None)
        first = rows[0]
        items.append(
            ImpactItem(
                manifest=manifest_id,
                declaration=first.declaration,
                citing_org=first.citing_org,
                snapshot_id=first.snapshot_id,
                posted_at=utc(first.posted_at),
                changed=len(factors),
                largest_relative_change=largest.relative_change if largest else None,
                largest_change_factor=largest.factor if largest else None,
                factors=factors,
            )
        )
    return ImpactReport(
        from_snapshot=from_id, to_snapshot=to_id, items=items, next_cursor=next_cursor
    )


def citation_errata(
    session: Session, *, caller: Caller, cursor: str | None = None, limit: int | None = None
) -> ErrataReport:
    """Revisions the caller's current declarations cite that a newer approved revision
    with change reason `correction` or `unit_fix` has since superseded."""
    require_role(caller, "accountant")
    size = clamp_limit(limit)
    after = decode_cursor(cursor, 2) if cursor else None
    page = q.errata_page(session, caller.organisation_id, after, size)
    next_cursor = encode_cursor(list(page[size - 1])) if len(page) > size else None
    page = page[:size]
    revisions = q.revisions_of(session, sorted({r.factor_pk for r in page}))
    by_pk = {r.id: r for r in revisions}
    approved: dict[int, list[Any]] = {}
    for r in revisions:
        if r.status == "approved":
            approved.setdefault(r.factor_pk, []).append(r)
    declarations: dict[int, list[str]] = {}
    for row in q.declarations_citing(
        session, caller.organisation_id, [r.revision_pk for r in page]
    ):
        declarations.setdefault(row.revision_pk, []).append(row.declaration)
    items = []
    for row in page:
        cited = by_pk[row.revision_pk]
        newer = [r for r in approved.get(row.factor_pk, []) if r.number > cited.number]
        fix = [r for r in newer if r.change_reason in q.CORRECTION_REASONS][-1]
        current = newer[-1]
        items.append(
            ErratumItem(
                factor=cited.factor_id,
                revision=cited.revision_id,
                value=cited.value,
                unit=cited.unit,
                corrected_by=fix.revision_id,
                change_reason=fix.change_reason,
                corrected_value=fix.value,
                current_revision=current.revision_id,
                current_value=current.value,
                relative_change=_relative(cited.value, current.value),
                declarations=declarations.get(row.revision_pk, []),
            )
        )
    return ErrataReport(items=items, next_cursor=next_cursor)
