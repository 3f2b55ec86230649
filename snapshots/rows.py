"""Frozen factor rows out of the registry, as one Arrow table in `fileformat.COLUMNS` order.

PostgreSQL streams them with `COPY … TO STDOUT (FORMAT csv)` into Arrow's CSV reader
(floats travel as shortest round-trip text, so they come back bit-exact); SQLite reads
them through its own cursor. Either way no ORM object is built per factor.
"""

from __future__ import annotations

import io
from typing import Any

import pyarrow as pa
from sqlalchemy.orm import Session

from snapshots.fileformat import COLUMN_NAMES, SCHEMA

_FROM_REVISION = {
    "factor": "f.factor_id",
    "revision": "r.revision_id",
    "provider": "o.slug",
    "code": "f.code",
}
SELECT_LIST = ", ".join(
    f"{_FROM_REVISION.get(name, 'r.' + name)} AS {name}" for name in COLUMN_NAMES
)
BATCH = 50_000


def frozen_rows_sql(pairs: str) -> str:
    """The content query over `pairs`, a relation of (factor_pk, revision_pk)."""
    return (
        f"SELECT {SELECT_LIST} FROM {pairs} p "
        "JOIN factor_revision r ON r.id = p.revision_pk "
        "JOIN factor f ON f.id = p.factor_pk "
        "JOIN organisation o ON o.id = f.organisation_id"
    )


def fetch(session: Session, pairs: str) -> pa.Table:
    """Every row of `frozen_rows_sql(pairs)`, sorted by factor ID in byte order."""
    connection = session.connection()
    raw = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        return _fetch_postgresql(raw, frozen_rows_sql(pairs) + ' ORDER BY f.factor_id COLLATE "C"')
    return _fetch_sqlite(raw, frozen_rows_sql(pairs) + " ORDER BY f.factor_id")


def _fetch_postgresql(raw: Any, query: str) -> pa.Table:
    import pyarrow.csv as pacsv

    buffer = io.BytesIO()
    with raw.cursor() as cursor:
        cursor.execute("SET LOCAL extra_float_digits = 1")
        cursor.execute("SET LOCAL datestyle = 'ISO, YMD'")
        # FORCE_QUOTE: an empty string is "" and a NULL stays bare, so they stay apart.
        with cursor.copy(f"COPY ({query}) TO STDOUT (FORMAT csv, FORCE_QUOTE *)") as copy:
            for chunk in copy:
                buffer.write(chunk)
    size = buffer.tell()
    if size == 0:
        return SCHEMA.empty_table()
    buffer.seek(0)
    table = pacsv.read_csv(
        buffer,
        read_options=pacsv.ReadOptions(column_names=list(COLUMN_NAMES), block_size=1 << 24),
        convert_options=pacsv.ConvertOptions(
            column_types=SCHEMA,
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            null_values=[""],
        ),
    )
    return table.select(list(COLUMN_NAMES)).cast(SCHEMA)


def _fetch_sqlite(raw: Any, query: str) -> pa.Table:
    cursor = raw.cursor()
    try:
        cursor.execute(query)
        batches = []
        while rows := cursor.fetchmany(BATCH):
            columns = list(zip(*rows, strict=True))
            batches.append(
                pa.record_batch(
                    [
                        pa.array(values, type=field.type)
                        for values, field in zip(columns, SCHEMA, strict=True)
                    ],
                    schema=SCHEMA,
                )
            )
    finally:
        cursor.close()
    return pa.Table.from_batches(batches, schema=SCHEMA)
