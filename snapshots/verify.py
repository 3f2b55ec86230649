"""Recompute an export's snapshot ID from the file alone (no database, no pandas).

`factordb snapshot verify` runs this; it must start fast, so it imports pyarrow and
DuckDB only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from factordb.errors import ValidationFailed
from snapshots.fileformat import COLUMN_NAMES, META_ID, META_ROWS, META_TREE, SCHEMA, read_manifest


def verify_file(path: str | Path) -> dict[str, Any]:
    """The `snapshot verify` document: `{"snapshot_id", "computed", "ok", "rows"}`.

    `ok` is false when the recomputed ID differs from the claimed one or the row count
    differs from the manifest's. Reads the file alone; never touches a database. The
    file is read once into Arrow (threaded): the order check, the escape check and the
    canonical lines all work on those buffers.
    """
    import pyarrow.parquet as pq

    from snapshots.hashing import table_content_id

    path = Path(path)
    meta = read_manifest(path)
    table = pq.read_table(path)
    check_columns(path, table)
    computed, rows = table_content_id(table, meta[META_TREE])
    claimed = meta[META_ID]
    return {
        "snapshot_id": claimed,
        "computed": computed,
        "ok": computed == claimed and str(rows) == meta[META_ROWS],
        "rows": rows,
    }


def check_columns(path: Path, table: pa.Table) -> None:
    missing = [name for name in COLUMN_NAMES if name not in table.column_names]
    if missing:
        raise ValidationFailed(f"{path} lacks snapshot columns: {', '.join(missing)}")
    wrong = [
        f"{name} ({table.schema.field(name).type}, expected {SCHEMA.field(name).type})"
        for name in COLUMN_NAMES
        if not table.schema.field(name).type.equals(SCHEMA.field(name).type)
        and not pa.types.is_null(table.schema.field(name).type)
    ]
    if wrong:
        raise ValidationFailed(f"{path} has snapshot columns of the wrong type: {', '.join(wrong)}")
