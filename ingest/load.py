"""Loading a validated batch: stage every row, then set-based SQL into the registry.

Rows go into a temporary stage table as they are validated: `COPY` (psycopg) on
PostgreSQL, `executemany` on SQLite, both in the caller's transaction. Once the whole
file is known to be valid, a handful of `INSERT … SELECT` statements create the
factors and revisions, so the registry sees one set-based write per kind of row and a
rejected batch never touches it.

Revision numbers come from `factor.latest_number`, read under a per-organisation lock
(`pg_advisory_xact_lock` on PostgreSQL; SQLite's write lock, taken by `BEGIN
IMMEDIATE` when the transaction starts), so two uploads of overlapping factors end
with numbers 1, 2, 3… and no gap or duplicate.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import DateTime, Integer, String, bindparam, column, select, table, text
from sqlalchemy.orm import Session

from factordb import lifecycle
from factordb.models import FactorRevision
from factordb.revisions import CONTENT_FIELDS
from ingest import plausibility
from ingest.columns import STAGE_COLUMNS, STAGE_DATE, STAGE_FLOAT, STAGE_INT

STAGE = "ingest_stage"
KNOWN = "ingest_known"
LOCK_CLASS = 7_281_946  # pg_advisory_xact_lock(class, organisation id): one batch per provider
SUPERSEDABLE = ("submitted", "in_review", "changes_requested")


def _sql_type(name: str, dialect: str) -> str:
    if name in STAGE_FLOAT:
        return "DOUBLE PRECISION" if dialect == "postgresql" else "REAL"
    if name in STAGE_INT:
        return "INTEGER"
    if name in STAGE_DATE and dialect == "postgresql":
        return "DATE"
    return "TEXT"


def _arrow_type(name: str) -> Any:
    import pyarrow as pa

    if name in STAGE_FLOAT:
        return pa.float64()
    if name in STAGE_INT:
        return pa.int64()
    return pa.string()


@dataclass
class Outcome:
    new_factors: int = 0
    new_revisions: int = 0
    unchanged: int = 0
    superseded: int = 0
    warnings: list[dict[str, Any]] = field(default_factory=list)


def lock_provider(session: Session, organisation_id: int) -> None:
    """Serialise batches of one provider until commit (SQLite's write lock already does)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:cls, :org)"),
            {"cls": LOCK_CLASS, "org": organisation_id},
        )


class Stage:
    """The batch's temporary stage table, private to this transaction's connection."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect.name
        self.rows = 0
        columns = ", ".join(f"{c} {_sql_type(c, self.dialect)}" for c in STAGE_COLUMNS)
        suffix = " ON COMMIT DROP" if self.dialect == "postgresql" else ""
        for name, ddl in (
            (STAGE, columns),
            (KNOWN, "line INTEGER PRIMARY KEY, factor_pk INTEGER, number INTEGER, warnings TEXT"),
        ):
            session.execute(text(f"DROP TABLE IF EXISTS {name}"))
            session.execute(text(f"CREATE TEMPORARY TABLE {name} ({ddl}){suffix}"))

    def _driver(self) -> Any:
        return self.session.connection().connection.driver_connection

    def append(self, frame: pd.DataFrame) -> None:
        """Stage rows (columns: any subset of STAGE_COLUMNS; the rest are NULL)."""
        if frame.empty:
            return
        names = [c for c in STAGE_COLUMNS if c in frame.columns]
        frame = frame[names]
        self.rows += len(frame)
        if self.dialect == "postgresql":
            self._copy(STAGE, frame)
        else:
            marks = ", ".join("?" for _ in names)
            values = frame.astype(object).where(frame.notna(), None)
            self._driver().executemany(
                f"INSERT INTO {STAGE} ({', '.join(names)}) VALUES ({marks})",
                values.itertuples(index=False, name=None),
            )

    def _copy(self, name: str, frame: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        schema = pa.schema([(c, _arrow_type(c)) for c in frame.columns])
        arrow = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
        buffer = io.BytesIO()
        pacsv.write_csv(
            arrow, buffer, pacsv.WriteOptions(include_header=False, quoting_style="needed")
        )
        with self._driver().cursor() as cursor:
            statement = f"COPY {name} ({', '.join(frame.columns)}) FROM STDIN (FORMAT csv)"
            with cursor.copy(statement) as copy:
                copy.write(buffer.getbuffer())

    def duplicates(self, limit: int) -> tuple[list[dict[str, Any]], int]:
        """Errors for every row whose factor_code an earlier row already used."""
        rows = self.session.execute(
            text(
                f"SELECT s.line, s.factor_code, d.first FROM {STAGE} s JOIN ("
                f"  SELECT factor_code, MIN(line) AS first FROM {STAGE}"
                "   WHERE factor_code IS NOT NULL GROUP BY factor_code HAVING COUNT(*) > 1"
                ") d ON d.factor_code = s.factor_code WHERE s.line > d.first ORDER BY s.line"
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

    def drop(self) -> None:
        for name in (STAGE, KNOWN):
            self.session.execute(text(f"DROP TABLE IF EXISTS {name}"))

    # -- into the registry ------------------------------------------------------------

    def _existing(self, organisation_id: int) -> Iterator[Any]:
        result = self.session.execute(
            text(
                "SELECT s.line, s.value, s.dimension, s.content_hash, s.warnings,"
                " f.id, f.factor_id, f.latest_number, l.content_hash, l.value, l.dimension,"
                " c.value, c.dimension"
                f" FROM {STAGE} s"
                " JOIN factor f ON f.organisation_id = :org AND f.code = s.factor_code"
                " LEFT JOIN factor_revision l ON l.factor_pk = f.id AND l.number = f.latest_number"
                " LEFT JOIN factor_revision c ON c.id = f.current_revision_id"
            ).execution_options(stream_results=True, yield_per=10_000),
            {"org": organisation_id},
        )
        yield from result

    def _write_known(self, known: list[tuple[int, int, int | None, str | None]]) -> None:
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

    def load(
        self,
        *,
        organisation_id: int,
        provider: str,
        batch_id: str,
        submitted_by: int | None,
        actor: str,
        now: datetime,
    ) -> Outcome:
        """Create factors, revisions and supersede moves from the staged rows (all valid)."""
        outcome = Outcome()
        known: list[tuple[int, int, int | None, str | None]] = []
        for row in self._existing(organisation_id):
            (
                line,
                value,
                dimension,
                new_hash,
                staged_warnings,
                factor_pk,
                factor_id,
                latest,
                latest_hash,
                latest_value,
                latest_dim,
                current_value,
                current_dim,
            ) = row
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
                outcome.warnings.append(
                    {"line": line, "factor": factor_id, "kind": "power_of_ten", "detail": detail}
                )
            known.append((line, factor_pk, latest + 1, warnings))
        self._write_known(known)

        when = bindparam("now", now, type_=DateTime(timezone=True))
        created = self.session.execute(
            text(
                "INSERT INTO factor (factor_id, organisation_id, code, latest_number, created_at)"
                f" SELECT :prefix || s.factor_code, :org, s.factor_code, 1, :now FROM {STAGE} s"
                f" WHERE NOT EXISTS (SELECT 1 FROM {KNOWN} k WHERE k.line = s.line)"
            ).bindparams(
                when,
                bindparam("prefix", f"{provider}:", type_=String),
                bindparam("org", organisation_id, type_=Integer),
            )
        )
        outcome.new_factors = created.rowcount or 0
        content = ", ".join(CONTENT_FIELDS)
        staged = ", ".join(f"s.{c}" for c in CONTENT_FIELDS)
        columns = (
            "revision_id, factor_pk, number, organisation_id, "
            f"{content}, change_reason, content_hash, batch_id, row_number, submitted_by, "
            "submitted_at, warnings, status, version"
        )
        binds = (
            when,
            bindparam("org", organisation_id, type_=Integer),
            bindparam("by", submitted_by, type_=Integer),
            bindparam("batch", batch_id, type_=String),
        )
        first = self.session.execute(
            text(
                f"INSERT INTO factor_revision ({columns})"
                f" SELECT f.factor_id || '@1', f.id, 1, :org, {staged}, s.change_reason,"
                " s.content_hash, :batch, s.line, :by, :now, s.warnings, 'submitted', 1"
                f" FROM {STAGE} s JOIN factor f ON f.organisation_id = :org"
                " AND f.code = s.factor_code"
                f" WHERE NOT EXISTS (SELECT 1 FROM {KNOWN} k WHERE k.line = s.line)"
            ).bindparams(*binds)
        )
        later = self.session.execute(
            text(
                f"INSERT INTO factor_revision ({columns})"
                " SELECT f.factor_id || '@' || CAST(k.number AS VARCHAR), f.id, k.number, :org,"
                f" {staged}, s.change_reason, s.content_hash, :batch, s.line, :by, :now,"
                " COALESCE(k.warnings, s.warnings), 'submitted', 1"
                f" FROM {STAGE} s JOIN {KNOWN} k ON k.line = s.line"
                " JOIN factor f ON f.id = k.factor_pk WHERE k.number IS NOT NULL"
            ).bindparams(*binds)
        )
        outcome.new_revisions = (first.rowcount or 0) + (later.rowcount or 0)
        if later.rowcount:
            self.session.execute(
                text(
                    "UPDATE factor SET latest_number = (SELECT k.number FROM"
                    f" {KNOWN} k WHERE k.factor_pk = factor.id AND k.number IS NOT NULL)"
                    f" WHERE id IN (SELECT factor_pk FROM {KNOWN} WHERE number IS NOT NULL)"
                )
            )
            outcome.superseded = self._supersede(batch_id, actor)
        return outcome

    def _supersede(self, batch_id: str, actor: str) -> int:
        """Move every pending older revision of a factor that got a new one to superseded."""
        known = table(KNOWN, column("factor_pk"), column("number"))
        pending = (
            self.session.execute(
                select(FactorRevision)
                .where(
                    FactorRevision.factor_pk.in_(
                        select(known.c.factor_pk).where(known.c.number.is_not(None))
                    ),
                    FactorRevision.status.in_(SUPERSEDABLE),
                    (FactorRevision.batch_id.is_(None)) | (FactorRevision.batch_id != batch_id),
                )
                .order_by(FactorRevision.id)
                .with_for_update()
            )
            .scalars()
            .all()
        )
        for revision in pending:
            lifecycle.apply(self.session, revision, "supersede", actor=actor, batch=batch_id)
        self.session.flush()
        return len(pending)
