"""Frozen factor rows out of the registry, as one Arrow table in `fileformat.COLUMNS` order.

PostgreSQL streams them with `COPY … TO STDOUT (FORMAT csv)` into Arrow's CSV reader
(floats travel as shortest round-trip text, so they come back bit-exact); SQLite reads
them through its own cursor. Either way no ORM object is built per factor.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import pyarrow as pa
from sqlalchemy.orm import Session

from snapshots.fileformat import COLUMN_NAMES, COLUMNS, SCHEMA, TEXT

_COLUMN_SQL = {
    "factor": "p.factor",
    "provider": "p.provider",
    "code": "p.code",
    "revision": "r.revision_id",
}
SELECT_LIST = ", ".join(f"{_COLUMN_SQL.get(name, 'r.' + name)} AS {name}" for name in COLUMN_NAMES)
BATCH = 50_000
PIPE_BUFFER = 1 << 20
# Quoted text columns: an empty string is "" and a NULL stays bare, so they stay apart.
# Numbers and dates travel bare (a fifth fewer bytes to parse).
_FORCE_QUOTE = "FORCE_QUOTE (" + ", ".join(n for n, kind in COLUMNS if kind == TEXT) + ")"


def frozen_rows_sql(keys: str) -> str:
    """The content query over `keys`, a relation of (revision_pk, factor, provider, code).

    The factor-side columns come with the keys (the publish freezes them with the pairs),
    so the one join left is to the wide revision rows, which the planner then streams
    past the narrow keys instead of hashing them.
    """
    return f"SELECT {SELECT_LIST} FROM {keys} p JOIN factor_revision r ON r.id = p.revision_pk"


def snapshot_keys_sql(sequence: int) -> str:
    """The keys of the factors frozen in the snapshot of that sequence (for `frozen_rows_sql`)."""
    return (
        "(SELECT sf.revision_pk, f.factor_id AS factor, o.slug AS provider, f.code "
        "FROM snapshot_factor sf JOIN factor f ON f.id = sf.factor_pk "
        "JOIN organisation o ON o.id = f.organisation_id "
        f"WHERE sf.snapshot_seq = {int(sequence)})"
    )


def fetch(session: Session, keys: str) -> pa.Table:
    """Every row of `frozen_rows_sql(keys)`, in no particular order (sorted afterwards)."""
    connection = session.connection()
    raw = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        return _fetch_postgresql(raw, frozen_rows_sql(keys))
    return _fetch_sqlite(raw, frozen_rows_sql(keys))


def _fetch_postgresql(raw: Any, query: str) -> pa.Table:
    """COPY out on a thread, into a pipe that Arrow's (threaded) CSV reader parses as it comes.

    PostgreSQL produces rows while Arrow parses them, on two cores, and the CSV text is
    never held whole in memory.
    """
    import pyarrow.csv as pacsv

    read_end, write_end = os.pipe()
    failure: list[BaseException] = []
    written = [0]

    def produce() -> None:
        try:
            # A savepoint inside the caller's transaction, or a transaction of its own on an
            # autocommit connection: the settings below last exactly as long as the COPY.
            with (
                os.fdopen(write_end, "wb", buffering=PIPE_BUFFER) as sink,
                raw.transaction(),
                raw.cursor() as cursor,
            ):
                cursor.execute("SET LOCAL extra_float_digits = 1")
                cursor.execute("SET LOCAL datestyle = 'ISO, YMD'")
                # A one-off scan of every row: compiling it costs more than it saves.
                cursor.execute("SET LOCAL jit = off")
                with cursor.copy(f"COPY ({query}) TO STDOUT (FORMAT csv, {_FORCE_QUOTE})") as copy:
                    for chunk in copy:
                        sink.write(chunk)
                        written[0] += len(chunk)
        except BaseException as exc:  # re-raised on the caller's thread below
            failure.append(exc)

    producer = threading.Thread(target=produce, name="factordb-copy-out", daemon=True)
    producer.start()
    try:
        with os.fdopen(read_end, "rb", buffering=PIPE_BUFFER) as source:
            try:
                table = pacsv.read_csv(source, read_options=_READ, convert_options=_CONVERT)
            except pa.ArrowInvalid:
                if failure or written[0]:
                    raise
                table = SCHEMA.empty_table()
    finally:
        producer.join()
    if failure:
        raise failure[0]
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


def _csv_options() -> tuple[Any, Any]:
    import pyarrow.csv as pacsv

    read = pacsv.ReadOptions(column_names=list(COLUMN_NAMES), block_size=1 << 23)
    convert = pacsv.ConvertOptions(
        column_types=SCHEMA,
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
        null_values=[""],
    )
    return read, convert


_READ, _CONVERT = _csv_options()
