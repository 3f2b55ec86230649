"""Provider batches: one file in, one report out (the contract's ingest document).

`ingest_file` is the one service the CLI (`factordb ingest`, `factordb import`), the
API (`POST /batches`) and the demo call. It flushes and never commits: the caller's
transaction holds the whole batch, so it is accepted whole or not at all.

- A valid batch creates factors and `submitted` revisions with their provenance
  (batch, file line, submitter); new content for a known factor makes the next
  revision and supersedes that factor's older pending ones; a row identical to the
  factor's latest revision is a no-op (`unchanged`).
- An invalid batch is stored as `rejected` with its report and writes no factor and
  no revision.
- The same file (sha256) from the same provider again is the same batch: an accepted
  one answers `duplicate` with the first upload's figures, a rejected one its stored
  report again. Nothing is written either way.
- Batch IDs are `b-` + 20 hex digits of sha256(provider slug, file sha256): opaque and
  the same for the same file from the same provider, on any database.

The command line acts for a provider organisation without a key (the operator runs
it against the database): its batches and revisions have no submitter
(`submitted_by` and `ingest_batch.principal_id` NULL) and the audit log names the
actor `SLUG/cli`.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factordb import audit
from factordb.errors import NotFound, PermissionDenied, ValidationFailed
from factordb.models import ClassificationNode, Factor, FactorRevision, Geography, IngestBatch
from factordb.principals import Caller, get_org
from factordb.settings import get_settings
from ingest.columns import COLUMNS, REQUIRED

Progress = Callable[[int], None]


def batch_id_for(provider: str, file_sha256: str) -> str:
    return "b-" + hashlib.sha256(f"{provider}\n{file_sha256}".encode()).hexdigest()[:20]


def operator_caller(session: Session, *, org: str) -> Caller:
    """The caller the command line acts as: the provider organisation `org`, no key."""
    organisation = get_org(session, org)
    if organisation.kind != "provider":
        raise PermissionDenied(
            f"organisation {org!r} is a {organisation.kind}; only providers upload factors"
        )
    return Caller(
        principal_id=0, organisation_id=organisation.id, organisation=org, role="provider"
    )


def _actor(caller: Caller) -> str:
    return caller.actor if caller.principal_id else f"{caller.organisation}/cli"


class _Report:
    """Errors and warnings of one batch, capped at `limit` each (the totals stay exact)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.errors: list[dict[str, Any]] = []
        self.warnings: list[dict[str, Any]] = []
        self.errors_total = 0
        self.warnings_total = 0

    def error(self, line: int | None, column: str | None, value: Any, reason: str) -> None:
        self.errors_total += 1
        if len(self.errors) < self.limit:
            self.errors.append({"line": line, "column": column, "value": value, "reason": reason})

    def add_errors(self, items: list[dict[str, Any]], total: int | None = None) -> None:
        room = max(self.limit - len(self.errors), 0)
        self.errors.extend(items[:room])
        self.errors_total += len(items) if total is None else total

    def add_warnings(self, items: list[dict[str, Any]], total: int | None = None) -> None:
        room = max(self.limit - len(self.warnings), 0)
        self.warnings.extend(items[:room])
        self.warnings_total += len(items) if total is None else total

    def sorted_errors(self) -> list[dict[str, Any]]:
        order = {c: i for i, c in enumerate(COLUMNS)}
        return sorted(
            self.errors,
            key=lambda e: (e["line"] or 0, order.get(e["column"] or "", -1), e["reason"]),
        )


def _find_batch(session: Session, organisation_id: int, file_sha256: str) -> IngestBatch | None:
    return session.execute(
        select(IngestBatch).where(
            IngestBatch.organisation_id == organisation_id,
            IngestBatch.file_sha256 == file_sha256,
        )
    ).scalar_one_or_none()


def _again(batch: IngestBatch) -> dict[str, Any]:
    """What a second upload of a known file answers."""
    report = json.loads(batch.report)
    if batch.status == "accepted":
        report["status"] = "duplicate"
    return report


def _medians(session: Session) -> dict[tuple[str, str], tuple[float, int]]:
    """Median and count of the current approved values per (node, dimension), read once."""
    current = (
        select(FactorRevision.classification, FactorRevision.dimension, FactorRevision.value)
        .join(Factor, Factor.current_revision_id == FactorRevision.id)
        .subquery()
    )
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(
            select(
                current.c.classification,
                current.c.dimension,
                func.percentile_cont(0.5).within_group(current.c.value),
                func.count(),
            ).group_by(current.c.classification, current.c.dimension)
        )
        return {(node, dim): (float(median), int(count)) for node, dim, median, count in rows}
    values: dict[tuple[str, str], list[float]] = {}
    for node, dimension, value in session.execute(select(current)):
        values.setdefault((node, dimension), []).append(value)
    return {k: (statistics.median(v), len(v)) for k, v in values.items()}


def _reference(session: Session, provider: str) -> Any:
    """Everything validation reads from the registry, read before the loader takes over."""
    from ingest.validate import Reference

    nodes = {
        n.code: (tuple(n.dimensions.split(";")), bool(n.allows_credit))
        for n in session.execute(select(ClassificationNode)).scalars()
    }
    geographies = frozenset(session.execute(select(Geography.code)).scalars())
    medians = _medians(session)
    return Reference(
        provider=provider,
        nodes=nodes,
        geographies=geographies,
        year_max=datetime.now(UTC).year + 1,
        medians=lambda codes: {k: v for k, v in medians.items() if k[0] in codes},
    )


def _check_header(header: list[str], line: int, report: _Report) -> None:
    seen: set[str] = set()
    for name in header:
        if not name:
            report.error(line, None, name, "a column has no name")
        elif name in seen:
            report.error(line, name, name, "the column appears twice")
        elif name not in COLUMNS:
            report.error(line, name, name, "unknown column")
        seen.add(name)
    for name in REQUIRED:
        if name not in seen:
            report.error(line, name, None, "required column is missing")


@dataclass
class _Scan:
    """What reading a file left: its row count, the loader holding its rows, its batch row,
    or the batch that already holds this file (a concurrent upload won)."""

    rows: int = 0
    loader: Any = None
    batch: IngestBatch | None = None
    again: IngestBatch | None = None


def _scan(
    session: Session,
    *,
    path: Path,
    encoding: str | None,
    bad_line: int | None,
    target: Any,
    report: _Report,
    chunk_rows: int,
    on_progress: Progress | None,
    row_of_batch: Callable[[], IngestBatch],
) -> _Scan:
    """Read, validate and stage the file chunk by chunk; errors go into `report`.

    Loading starts (under the provider's lock, in the loader's savepoint) once the header
    is right; the batch row is written first, as its revisions refer to it.
    """
    from ingest.load import Loader, lock_provider
    from ingest.reader import open_csv
    from ingest.validate import ChunkValidator, stage_frame

    scan = _Scan(batch=row_of_batch())
    if encoding is None:
        report.error(bad_line, None, None, "the file is neither UTF-8 nor GB18030 text")
        return scan
    opened = open_csv(path, encoding, chunk_rows=chunk_rows, on_progress=on_progress)
    if opened is None:
        report.error(None, None, None, "the file is empty")
        return scan
    _check_header(opened.header, opened.header_line, report)
    validator = None
    if not report.errors_total:
        validator = ChunkValidator(
            opened.header,
            _reference(session, target.provider),
            max_errors=report.limit,
        )
        lock_provider(session, target.organisation_id)
        scan.again = _find_batch(session, target.organisation_id, scan.batch.file_sha256)
        if scan.again is not None:
            return scan
        scan.loader = Loader(session, target, keep_warnings=report.limit)
        session.add(scan.batch)
        session.flush()
    width = len(opened.header)
    with scan.loader.pipeline() if scan.loader else _discard() as send:
        for chunk in opened.chunks:
            scan.rows += len(chunk.frame) + len(chunk.ragged)
            for line, cells in chunk.ragged:
                report.error(line, None, cells, f"the row has {cells} cells, the header {width}")
            if validator is None:
                continue
            result = validator.validate(chunk.frame)
            report.add_errors(result.errors, len(result.errors) + result.errors_dropped)
            report.add_warnings(result.warnings)
            send(result.codes, False)
            send(stage_frame(result.rows), not report.errors_total)
            del chunk, result  # the next chunk is read without this one's frames alive
        if validator is not None:
            late, dropped = validator.finish()
            report.add_errors(late, len(late) + dropped)
    for line, reason in opened.failure:
        report.error(line, None, None, reason)
    if scan.loader is not None:
        duplicates, total = scan.loader.duplicates(report.limit)
        report.add_errors(duplicates, total)
    if scan.rows == 0 and not report.errors_total:
        report.error(None, None, None, "the file has a header but no data rows")
    return scan


def ingest_file(
    session: Session,
    *,
    path: Path,
    caller: Caller,
    filename: str | None = None,
    source_format: str = "csv",
    chunk_rows: int | None = None,
    on_progress: Progress | None = None,
    origin: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Validate and load one provider CSV; returns the batch report document.

    Raises `PermissionDenied` unless the caller is a provider, `ValidationFailed` when
    the file is over `FACTORDB_INGEST_MAX_BYTES` (refused before it is read). Everything
    wrong inside the file is reported, not raised: the batch is then `rejected`.
    `origin` (importers) gives the source file's sha256, a line map back to the source
    file, warnings of its own (rows it skipped) and an `import` section for the report.
    """
    from ingest.load import Target, lock_provider
    from ingest.reader import inspect_file

    if caller.role != "provider":
        raise PermissionDenied(f"only a provider uploads factor batches; the key is {caller.role}")
    settings = get_settings()
    started = time.perf_counter()
    size = path.stat().st_size
    if size > settings.ingest_max_bytes:
        raise ValidationFailed(
            f"the file is {size} bytes; the limit is {settings.ingest_max_bytes} "
            "(FACTORDB_INGEST_MAX_BYTES)"
        )
    facts = inspect_file(path)
    origin = origin or {}
    file_sha256 = origin.get("sha256", facts.sha256)
    known = _find_batch(session, caller.organisation_id, file_sha256)
    if known is not None:
        return _again(known)

    batch_id = batch_id_for(caller.organisation, file_sha256)
    now = datetime.now(UTC)
    target = Target(
        organisation_id=caller.organisation_id,
        provider=caller.organisation,
        batch_id=batch_id,
        submitted_by=caller.principal_id or None,
        actor=_actor(caller),
        now=now,
    )
    report = _Report(settings.ingest_max_report_items)
    scan = _scan(
        session,
        path=path,
        encoding=facts.encoding,
        bad_line=facts.bad_line,
        target=target,
        report=report,
        chunk_rows=chunk_rows or settings.ingest_chunk_rows,
        on_progress=on_progress,
        row_of_batch=lambda: _batch_row(target, filename or path.name, file_sha256, source_format),
    )
    if scan.again is not None:
        return _again(scan.again)
    rows, loader = scan.rows, scan.loader
    document: dict[str, Any] = {
        "batch_id": batch_id,
        "status": "rejected" if report.errors_total else "accepted",
        "rows": rows,
        "new_factors": 0,
        "new_revisions": 0,
        "unchanged": 0,
        "errors": report.sorted_errors(),
        "warnings": list(report.warnings),
        "errors_total": report.errors_total,
        "warnings_total": report.warnings_total,
        "organisation": caller.organisation,
        "filename": filename or path.name,
        "file_sha256": file_sha256,
        "source_format": source_format,
        "encoding": facts.encoding,
    }
    if "import" in origin:
        document["import"] = origin["import"]
    if document["status"] == "accepted" and loader is not None:
        outcome = loader.finish()
        report.add_warnings(outcome.warnings, outcome.warnings_total)
        document.update(
            new_factors=outcome.new_factors,
            new_revisions=outcome.new_revisions,
            unchanged=outcome.unchanged,
            superseded=outcome.superseded,
            warnings=sorted(report.warnings, key=lambda w: (w["line"] or 0, w["kind"])),
            warnings_total=report.warnings_total,
        )
    elif loader is not None:
        loader.abandon()
        session.add(scan.batch)
    else:
        lock_provider(session, caller.organisation_id)
        known = _find_batch(session, caller.organisation_id, file_sha256)
        if known is not None:
            return _again(known)
        session.add(scan.batch)
    line_map = origin.get("lines")
    if line_map is not None:
        _to_source_lines(document, line_map)
    extra = origin.get("warnings") or []
    if extra:
        merged = sorted([*extra, *document["warnings"]], key=lambda w: (w["line"] or 0, w["kind"]))
        document["warnings"] = merged[: settings.ingest_max_report_items]
        document["warnings_total"] += len(extra)
    document["seconds"] = round(time.perf_counter() - started, 3)
    batch = scan.batch
    batch.status, batch.rows = document["status"], rows
    batch.report = json.dumps(document, ensure_ascii=False, default=str)
    session.add(batch)
    session.flush()
    audit.record(
        session,
        actor=target.actor,
        action="batch.ingest",
        subject=batch_id,
        status=document["status"],
        rows=rows,
        new_factors=document["new_factors"],
        new_revisions=document["new_revisions"],
        unchanged=document["unchanged"],
        file_sha256=file_sha256,
        source_format=source_format,
    )
    return document


@contextmanager
def _discard() -> Iterator[Callable[[Any, bool], None]]:
    """A `send` for files that fail before loading starts (header errors): rows are counted only."""
    yield lambda rows, load: None


def _batch_row(target: Any, filename: str, file_sha256: str, source_format: str) -> IngestBatch:
    return IngestBatch(
        id=target.batch_id,
        organisation_id=target.organisation_id,
        principal_id=target.submitted_by,
        filename=filename.replace("\x00", "")[:500],
        file_sha256=file_sha256,
        source_format=source_format,
        rows=0,
        status="accepted",
        report="{}",
        created_at=target.now,
    )


def _to_source_lines(document: dict[str, Any], line_map: dict[int, int]) -> None:
    """Importers: name the line of the public dataset's file, not of the mapped CSV."""
    for item in (*document["errors"], *document["warnings"]):
        if item.get("line") in line_map:
            item["line"] = line_map[item["line"]]


def ingest_upload(
    session: Session, *, stream: BinaryIO, filename: str | None, caller: Caller
) -> dict[str, Any]:
    """`ingest_file` for an uploaded stream: spooled to a temporary file, size-limited."""
    limit = get_settings().ingest_max_bytes
    with tempfile.TemporaryDirectory(prefix="factordb-upload-") as folder:
        target = Path(folder) / "upload.csv"
        written = 0
        with target.open("wb") as out:
            while block := stream.read(1 << 20):
                written += len(block)
                if written > limit:
                    raise ValidationFailed(
                        f"the upload is over the limit of {limit} bytes (FACTORDB_INGEST_MAX_BYTES)"
                    )
                out.write(block)
        return ingest_file(session, path=target, caller=caller, filename=filename or "upload.csv")


def get_batch(session: Session, *, batch_id: str, caller: Caller) -> dict[str, Any]:
    """A batch's stored report, for its provider organisation or an admin; else NotFound."""
    batch = session.get(IngestBatch, batch_id)
    visible = batch is not None and (
        caller.role == "admin"
        or (caller.role == "provider" and batch.organisation_id == caller.organisation_id)
    )
    if batch is None or not visible:
        raise NotFound(f"no batch {batch_id}")
    return json.loads(batch.report)
