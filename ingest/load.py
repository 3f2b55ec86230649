"""Loading a batch chunk by chunk, inside one savepoint of the caller's transaction.

A worker thread loads each validated chunk while the caller's thread parses and validates
the next one, so the database's work overlaps Python's:

- PostgreSQL: the chunk's new factors (IDs reserved from the sequence) and all its new
  revisions are `COPY`-ed (psycopg) straight into `factor` and `factor_revision`; the
  registry's own keys, foreign keys and checks are the last stage. Its factor codes are
  copied into a temporary table that finds codes used twice in the file.
- SQLite: the chunk goes into a temporary stage table (`executemany`) and on into the
  registry by a few set-based `INSERT … SELECT` statements.

When the file turns out to be invalid (a late error, a duplicate code), the savepoint is
rolled back and the registry never saw the batch.

Revision numbers come from `factor.latest_number`, read under a per-provider lock taken
before the first read (`pg_advisory_xact_lock` on PostgreSQL; SQLite's write lock, taken
by `BEGIN IMMEDIATE` when the transaction starts), so two uploads of overlapping factors
end with numbers 1, 2, 3… and no gap or duplicate.
"""

from __future__ import annotations

import io
import json
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import DateTime, Integer, String, bindparam, column, select, table, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from factordb import lifecycle
from factordb.models import FactorRevision
from factordb.revisions import CONTENT_FIELDS
from ingest import plausibility
from ingest.columns import STAGE_COLUMNS, STAGE_DATE, STAGE_FLOAT, STAGE_INT

CHUNK = "ingest_chunk"
CODES = "ingest_codes"
KNOWN = "ingest_known"
CHANGED = "ingest_changed"
LOCK_CLASS = 7_281_946  # pg_advisory_xact_lock(class, organisation id): one batch per provider
SUPERSEDABLE = ("submitted", "in_review", "changes_requested")
QUEUE_CHUNKS = 1  # chunks waiting for the worker; bounds memory


def lock_provider(session: Session, organisation_id: int) -> None:
    """Serialise batches of one provider until commit (SQLite's write lock already does)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:cls, :org)"),
            {"cls": LOCK_CLASS, "org": organisation_id},
        )


def _sql_type(name: str, dialect: str) -> str:
    if name in STAGE_FLOAT:
        return "DOUBLE PRECISION" if dialect == "postgresql" else "REAL"
    if name in STAGE_INT:
        return "INTEGER"
    if name in STAGE_DATE and dialect == "postgresql":
        return "DATE"
    return "TEXT"


REVISION_COPY: tuple[str, ...] = (
    "revision_id",
    "factor_pk",
    "number",
    "organisation_id",
    *CONTENT_FIELDS,
    "change_reason",
    "content_hash",
    "batch_id",
    "row_number",
    "submitted_by",
    "submitted_at",
    "warnings",
    "status",
    "version",
)
_INTEGERS = frozenset(
    {
        "id",
        "factor_pk",
        "number",
        "organisation_id",
        "row_number",
        "submitted_by",
        "version",
        "latest_number",
    }
)


def _arrow_type(name: str) -> Any:
    import pyarrow as pa

    if name in STAGE_FLOAT:
        return pa.float64()
    if name in STAGE_INT or name in _INTEGERS:
        return pa.int64()
    return pa.string()


@dataclass
class Outcome:
    new_factors: int = 0
    new_revisions: int = 0
    unchanged: int = 0
    superseded: int = 0
    warnings: list[dict[str, Any]] = field(default_factory=list)
    warnings_total: int = 0
    keep_warnings: int = 10_000

    def warn(self, item: dict[str, Any]) -> None:
        self.warnings_total += 1
        if len(self.warnings) < self.keep_warnings:
            self.warnings.append(item)


@dataclass(frozen=True)
class Target:
    """Whose batch this is and how its revisions are stamped."""

    organisation_id: int
    provider: str
    batch_id: str
    submitted_by: int | None
    actor: str
    now: datetime


class Loader:
    """The batch's stage tables and its savepoint; `pipeline` feeds it chunk by chunk."""

    def __init__(self, session: Session, target: Target, *, keep_warnings: int) -> None:
        self.session = session
        self.target = target
        self.dialect = session.get_bind().dialect.name
        self.loading = True
        self.refused: Exception | None = None
        # What the driver raises when used directly (COPY), beside SQLAlchemy's wrapper.
        self.driver_error: type[Exception] = session.get_bind().dialect.dbapi.Error
        self.outcome = Outcome(keep_warnings=keep_warnings)
        stage = ", ".join(f"{c} {_sql_type(c, self.dialect)}" for c in STAGE_COLUMNS)
        suffix = " ON COMMIT DROP" if self.dialect == "postgresql" else ""
        for name, ddl in (
            (CHUNK, stage),
            (CODES, "line INTEGER PRIMARY KEY, factor_code TEXT"),
            (KNOWN, "line INTEGER PRIMARY KEY, factor_pk INTEGER, number INTEGER, warnings TEXT"),
            (CHANGED, "factor_pk INTEGER PRIMARY KEY"),
        ):
            session.execute(text(f"DROP TABLE IF EXISTS {name}"))
            session.execute(text(f"CREATE TEMPORARY TABLE {name} ({ddl}){suffix}"))
        session.execute(text(f"CREATE INDEX ix_{CODES}_code ON {CODES} (factor_code)"))
        self.savepoint = session.begin_nested()

    # -- the pipeline -----------------------------------------------------------------

    @contextmanager
    def pipeline(self) -> Iterator[Callable[[pd.DataFrame, bool], None]]:
        """Yield `send(rows, load)`: stage `rows` (STAGE_COLUMNS, or only line and code) and,
        while `load` stays true, move them into the registry, in a worker thread."""
        tasks: queue.Queue[tuple[pd.DataFrame, bool] | None] = queue.Queue(QUEUE_CHUNKS)
        failure: list[BaseException] = []

        def work() -> None:
            while (task := tasks.get()) is not None:
                if failure:
                    continue
                try:
                    self._chunk(*task)
                except BaseException as exc:  # handed to the caller's thread
                    failure.append(exc)

        worker = threading.Thread(target=work, name="ingest-loader", daemon=True)
        worker.start()

        def send(rows: pd.DataFrame, load: bool) -> None:
            if failure:
                raise failure[0]
            tasks.put((rows, load))

        try:
            yield send
        finally:
            tasks.put(None)
            worker.join()
        if failure:
            raise failure[0]

    def _driver(self) -> Any:
        return self.session.connection().connection.driver_connection

    def _chunk(self, rows: pd.DataFrame, load: bool) -> None:
        if rows.empty:
            return
        self.loading = self.loading and load and "content_hash" in rows.columns
        first = int(rows["line"].min())
        if self.dialect == "postgresql" or not self.loading:
            self._stage(CODES, rows[["line", "factor_code"]])
        else:
            self._empty(CHUNK)
            self._stage(CHUNK, rows[list(STAGE_COLUMNS)])
            self.session.execute(
                text(
                    f"INSERT INTO {CODES} (line, factor_code) SELECT line, factor_code FROM {CHUNK}"
                )
            )
        if self.loading and self._repeats(first):
            self.loading = False
        if not self.loading:
            return
        # Rows pass the expectation suite only when their window closes, later: a row the
        # suite will reject (unknown geography, a name too long) may reach the database
        # first and be refused there. Then this chunk is undone and loading stops; the
        # suite's error rejects the batch, or `refused` is raised if none comes.
        counts = (self.outcome.new_factors, self.outcome.new_revisions, self.outcome.unchanged)
        chunk = self.session.begin_nested()
        try:
            if self.dialect == "postgresql":
                self._register_by_copy(rows)
            else:
                self._register()
            chunk.commit()
        except (DBAPIError, self.driver_error) as exc:
            chunk.rollback()
            self.loading = False
            self.refused = exc
            self.outcome.new_factors, self.outcome.new_revisions, self.outcome.unchanged = counts

    def _stage(self, name: str, frame: pd.DataFrame) -> None:
        if self.dialect == "postgresql":
            import pyarrow as pa
            import pyarrow.csv as pacsv

            schema = pa.schema([(c, _arrow_type(c)) for c in frame.columns])
            arrow = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
            buffer = io.BytesIO()
            pacsv.write_csv(
                arrow, buffer, pacsv.WriteOptions(include_header=False, quoting_style="needed")
            )
            statement = f"COPY {name} ({', '.join(frame.columns)}) FROM STDIN (FORMAT csv)"
            with self._driver().cursor() as cursor, cursor.copy(statement) as copy:
                copy.write(buffer.getbuffer())
            return
        marks = ", ".join("?" for _ in frame.columns)
        values = frame.astype(object).where(frame.notna(), None)
        self._driver().executemany(
            f"INSERT INTO {name} ({', '.join(frame.columns)}) VALUES ({marks})",
            values.itertuples(index=False, name=None),
        )

    def _repeats(self, first_line: int) -> bool:
        """Whether a code of this chunk appeared on an earlier line of the file."""
        found = self.session.execute(
            text(
                f"SELECT 1 FROM {CODES} c WHERE c.line >= :first AND c.factor_code IS NOT NULL"
                f" AND EXISTS (SELECT 1 FROM {CODES} d WHERE d.factor_code = c.factor_code"
                " AND d.line < c.line) LIMIT 1"
            ),
            {"first": first_line},
        ).first()
        return found is not None

    # -- into the registry ------------------------------------------------------------

    def _existing(self) -> Iterator[Any]:
        result = self.session.execute(
            text(
                "SELECT s.line, s.value, s.dimension, s.content_hash, s.warnings,"
                " f.id, f.factor_id, f.latest_number, l.content_hash, l.value, l.dimension,"
                " c.value, c.dimension"
                f" FROM {CHUNK} s"
                " JOIN factor f ON f.organisation_id = :org AND f.code = s.factor_code"
                " LEFT JOIN factor_revision l ON l.factor_pk = f.id AND l.number = f.latest_number"
                " LEFT JOIN factor_revision c ON c.id = f.current_revision_id"
            ),
            {"org": self.target.organisation_id},
        )
        yield from result

    def _empty(self, name: str) -> None:
        """Empty a stage table; TRUNCATE on PostgreSQL, where DELETE would leave dead rows
        that every later chunk scans again (temporary tables are never vacuumed)."""
        verb = "TRUNCATE" if self.dialect == "postgresql" else "DELETE FROM"
        self.session.execute(text(f"{verb} {name}"))

    def _write_known(self, known: list[tuple[int, int, int | None, str | None]]) -> None:
        self._empty(KNOWN)
        if not known:
            return
        if self.dialect == "postgresql":
            with (
                self._driver().cursor() as cursor,
                cursor.copy(f"COPY {KNOWN} (line, factor_pk, number, warnings) FROM STDIN") as copy,
            ):
                for row in known:
                    copy.write_row(row)
        else:
            self._driver().executemany(
                f"INSERT INTO {KNOWN} (line, factor_pk, number, warnings) VALUES (?, ?, ?, ?)",
                known,
            )

    def _register(self) -> None:
        """Move the staged chunk into the registry (every row valid, no code seen before)."""
        target, outcome = self.target, self.outcome
        known: list[tuple[int, int, int | None, str | None]] = []
        for row in self._existing():
            (line, value, dimension, new_hash, staged_warnings, factor_pk, factor_id, latest) = row[
                :8
            ]
            latest_hash, latest_value, latest_dim, current_value, current_dim = row[8:]
            if latest_hash == new_hash:
                outcome.unchanged += 1
                known.append((line, factor_pk, None, None))
                continue
            reference, ref_dim = (
                (current_value, current_dim)
                if current_value is not None
                else (latest_value, latest_dim)
            )
            detail = plausibility.power_of_ten(value, reference) if ref_dim == dimension else None
            warnings = None
            if detail:
                items = [
                    *json.loads(staged_warnings or "[]"),
                    {"kind": "power_of_ten", "detail": detail},
                ]
                warnings = json.dumps(items, ensure_ascii=False)
                outcome.warn(
                    {"line": line, "factor": factor_id, "kind": "power_of_ten", "detail": detail}
                )
            known.append((line, factor_pk, latest + 1, warnings))
        self._write_known(known)

        when = bindparam("now", target.now, type_=DateTime(timezone=True))
        org = bindparam("org", target.organisation_id, type_=Integer)
        created = self.session.execute(
            text(
                "INSERT INTO factor (factor_id, organisation_id, code, latest_number, created_at)"
                f" SELECT :prefix || s.factor_code, :org, s.factor_code, 1, :now FROM {CHUNK} s"
                f" WHERE NOT EXISTS (SELECT 1 FROM {KNOWN} k WHERE k.line = s.line)"
            ).bindparams(when, org, bindparam("prefix", f"{target.provider}:", type_=String))
        )
        outcome.new_factors += created.rowcount or 0
        content = ", ".join(CONTENT_FIELDS)
        staged = ", ".join(f"s.{c}" for c in CONTENT_FIELDS)
        columns = (
            "revision_id, factor_pk, number, organisation_id, "
            f"{content}, change_reason, content_hash, batch_id, row_number, submitted_by, "
            "submitted_at, warnings, status, version"
        )
        binds = (
            when,
            org,
            bindparam("by", target.submitted_by, type_=Integer),
            bindparam("batch", target.batch_id, type_=String),
        )
        first = self.session.execute(
            text(
                f"INSERT INTO factor_revision ({columns})"
                f" SELECT f.factor_id || '@1', f.id, 1, :org, {staged}, s.change_reason,"
                " s.content_hash, :batch, s.line, :by, :now, s.warnings, 'submitted', 1"
                f" FROM {CHUNK} s JOIN factor f ON f.organisation_id = :org"
                " AND f.code = s.factor_code"
                f" WHERE NOT EXISTS (SELECT 1 FROM {KNOWN} k WHERE k.line = s.line)"
            ).bindparams(*binds)
        )
        outcome.new_revisions += first.rowcount or 0
        if not any(number for _, _, number, _ in known):
            return
        later = self.session.execute(
            text(
                f"INSERT INTO factor_revision ({columns})"
                " SELECT f.factor_id || '@' || CAST(k.number AS VARCHAR), f.id, k.number, :org,"
                f" {staged}, s.change_reason, s.content_hash, :batch, s.line, :by, :now,"
                " COALESCE(k.warnings, s.warnings), 'submitted', 1"
                f" FROM {CHUNK} s JOIN {KNOWN} k ON k.line = s.line"
                " JOIN factor f ON f.id = k.factor_pk WHERE k.number IS NOT NULL"
            ).bindparams(*binds)
        )
        outcome.new_revisions += later.rowcount or 0
        self.session.execute(
            text(
                "UPDATE factor SET latest_number = (SELECT k.number FROM"
                f" {KNOWN} k WHERE k.factor_pk = factor.id AND k.number IS NOT NULL)"
                f" WHERE id IN (SELECT factor_pk FROM {KNOWN} WHERE number IS NOT NULL)"
            )
        )
        self.session.execute(
            text(
                f"INSERT INTO {CHANGED} (factor_pk)"
                f" SELECT factor_pk FROM {KNOWN} WHERE number IS NOT NULL"
            )
        )

    # -- PostgreSQL: straight into the registry by COPY ---------------------------------

    def _known_factors(self, codes: list[str]) -> dict[str, tuple[Any, ...]]:
        """This provider's factors among `codes`, with their latest and current revisions."""
        rows = self.session.execute(
            text(
                "SELECT f.code, f.id, f.factor_id, f.latest_number, l.content_hash, l.value,"
                " l.dimension, c.value, c.dimension FROM factor f"
                " LEFT JOIN factor_revision l ON l.factor_pk = f.id AND l.number = f.latest_number"
                " LEFT JOIN factor_revision c ON c.id = f.current_revision_id"
                " WHERE f.organisation_id = :org AND f.code = ANY(:codes)"
            ),
            {"org": self.target.organisation_id, "codes": codes},
        )
        return {row[0]: tuple(row[1:]) for row in rows}

    def _register_by_copy(self, rows: pd.DataFrame) -> None:
        """Copy the chunk's factors and revisions into the registry tables themselves.

        Validation already ran in Python, so the registry's own keys, foreign keys and
        checks are the only stage left: new factors get IDs reserved from their sequence
        and both tables are filled by `COPY`, as fast as PostgreSQL loads them.
        """
        target, outcome = self.target, self.outcome
        known = self._known_factors(rows["factor_code"].tolist())
        is_new = ~rows["factor_code"].isin(list(known)).to_numpy()
        fresh = rows.loc[is_new]
        revisions = []
        if len(fresh):
            ids = (
                self.session.execute(
                    text(
                        "SELECT nextval(pg_get_serial_sequence('factor', 'id'))"
                        " FROM generate_series(1, :n)"
                    ),
                    {"n": len(fresh)},
                )
                .scalars()
                .all()
            )
            factor_ids = f"{target.provider}:" + fresh["factor_code"]
            self._stage(
                "factor",
                pd.DataFrame(
                    {
                        "id": ids,
                        "factor_id": factor_ids.to_numpy(),
                        "organisation_id": target.organisation_id,
                        "code": fresh["factor_code"].to_numpy(),
                        "latest_number": 1,
                        "created_at": target.now.isoformat(),
                    }
                ),
            )
            outcome.new_factors += len(fresh)
            revisions.append(
                fresh.assign(factor_pk=ids, number=1, revision_id=(factor_ids + "@1").to_numpy())
            )
        moved: list[tuple[int, int]] = []
        changed: list[dict[str, Any]] = []
        for item in rows.loc[~is_new].itertuples(index=False):
            (
                factor_pk,
                factor_id,
                latest,
                latest_hash,
                latest_value,
                latest_dim,
                cur_value,
                cur_dim,
            ) = known[item.factor_code]
            if latest_hash == item.content_hash:
                outcome.unchanged += 1
                continue
            number = latest + 1
            reference, ref_dim = (
                (cur_value, cur_dim) if cur_value is not None else (latest_value, latest_dim)
            )
            warnings = item.warnings
            detail = (
                plausibility.power_of_ten(item.value, reference)
                if ref_dim == item.dimension
                else None
            )
            if detail:
                items = [*json.loads(warnings), {"kind": "power_of_ten", "detail": detail}]
                warnings = json.dumps(items, ensure_ascii=False)
                outcome.warn(
                    {
                        "line": item.line,
                        "factor": factor_id,
                        "kind": "power_of_ten",
                        "detail": detail,
                    }
                )
            moved.append((factor_pk, number))
            changed.append(
                {
                    **item._asdict(),
                    "factor_pk": factor_pk,
                    "number": number,
                    "revision_id": f"{factor_id}@{number}",
                    "warnings": warnings,
                }
            )
        if changed:
            revisions.append(pd.DataFrame(changed))
        if not revisions:
            return
        frame = pd.concat(revisions) if len(revisions) > 1 else revisions[0]
        self._stage(
            "factor_revision",
            frame.assign(
                organisation_id=target.organisation_id,
                batch_id=target.batch_id,
                submitted_by=target.submitted_by,
                submitted_at=target.now.isoformat(),
                status="submitted",
                version=1,
            ).rename(columns={"line": "row_number"})[list(REVISION_COPY)],
        )
        outcome.new_revisions += len(frame)
        if moved:
            with self._driver().cursor() as cursor:
                cursor.executemany(
                    "UPDATE factor SET latest_number = %s WHERE id = %s",
                    [(number, pk) for pk, number in moved],
                )
                cursor.executemany(
                    f"INSERT INTO {CHANGED} (factor_pk) VALUES (%s)", [(pk,) for pk, _ in moved]
                )

    # -- the end ----------------------------------------------------------------------

    def duplicates(self, limit: int) -> tuple[list[dict[str, Any]], int]:
        """Errors for every row whose factor_code an earlier row of the file already used."""
        rows = self.session.execute(
            text(
                f"SELECT c.line, c.factor_code, MIN(d.line) FROM {CODES} c"
                f" JOIN {CODES} d ON d.factor_code = c.factor_code AND d.line < c.line"
                " GROUP BY c.line, c.factor_code ORDER BY c.line"
            )
        ).all()
        errors = [
            {
                "line": line,
                "column": "factor_code",
                "value": code,
                "reason": f"duplicate factor_code: line {first} has it too",
            }
            for line, code, first in rows[:limit]
        ]
        return errors, len(rows)

    def abandon(self) -> None:
        """Undo everything the batch wrote (the registry never sees it)."""
        self.savepoint.rollback()
        self._drop()

    def finish(self) -> Outcome:
        """Supersede the older pending revisions of changed factors; keep the batch.

        Raises the database's refusal of a chunk if no validation error explained it.
        """
        if self.refused is not None:
            raise self.refused
        self.outcome.superseded = self._supersede()
        self.savepoint.commit()
        self._drop()
        return self.outcome

    def _drop(self) -> None:
        for name in (CHUNK, CODES, KNOWN, CHANGED):
            self.session.execute(text(f"DROP TABLE IF EXISTS {name}"))

    def _supersede(self) -> int:
        """Move every pending older revision of a factor that got a new one to superseded."""
        changed = table(CHANGED, column("factor_pk"))
        pending = (
            self.session.execute(
                select(FactorRevision)
                .where(
                    FactorRevision.factor_pk.in_(select(changed.c.factor_pk)),
                    FactorRevision.status.in_(SUPERSEDABLE),
                    (FactorRevision.batch_id.is_(None))
                    | (FactorRevision.batch_id != self.target.batch_id),
                )
                .order_by(FactorRevision.id)
                .with_for_update()
            )
            .scalars()
            .all()
        )
        for revision in pending:
            lifecycle.apply(
                self.session,
                revision,
                "supersede",
                actor=self.target.actor,
                batch=self.target.batch_id,
            )
        self.session.flush()
        return len(pending)
