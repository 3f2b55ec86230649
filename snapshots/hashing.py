r"""The snapshot ID: sha256 over a canonical serialisation of a snapshot's content.

The content is the frozen factor rows and the tree; the sequence, label, publication
time and publisher are not content. The serialisation (format 1), UTF-8 encoded:

    factordb-snapshot/1\n
    <canonical tree JSON>\n
    <one line per factor, sorted by factor ID (byte order), each ending in \n>

A factor line holds the `fileformat.COLUMNS` fields in that order, separated by one
tab. A null is `\N`; text has `\` → `\\`, tab → `\t`, newline → `\n`, carriage
return → `\r`; integers are plain decimal (`2023`); floats are
`factordb.hashing.canonical_number` (Python's shortest round-trip `repr`, `0` for
zero). `docs/snapshots.md` carries a standalone recomputation.

The lines are built by DuckDB (vectorised; its DOUBLE → VARCHAR cast is the same
shortest round-trip text as Python's `repr`) and streamed into hashlib straight
from the Arrow buffers, so a million rows hash in about a second. Escaping is rare:
text columns whose bytes hold none of `\`, tab, newline and carriage return (one
`memchr` pass over each Arrow data buffer, `plain_text_columns`) skip the per-value
escape test altogether.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping
from functools import lru_cache
from typing import Any

import pyarrow as pa

from factordb.hashing import canonical_number
from snapshots.fileformat import COLUMNS, FLOAT, INT, TEXT, duckdb_connect

MAGIC = "factordb-snapshot/1\n"
NULL = "\\N"
BATCH_ROWS = 131_072
ESCAPED_BYTES = (b"\\", b"\t", b"\n", b"\r")


def _text_sql(column: str, *, plain: bool) -> str:
    text = f"CAST({column} AS VARCHAR)"
    if plain:
        return f"coalesce({text}, '\\N')"
    # Escaping is rare, so test first: four replace() passes over every string cost 5x.
    escaped = (
        f"replace(replace(replace(replace({text}, '\\', '\\\\'), "
        f"chr(9), '\\t'), chr(10), '\\n'), chr(13), '\\r')"
    )
    return (
        f"CASE WHEN {column} IS NULL THEN '\\N' "
        f"WHEN regexp_matches({text}, '[\\\\\\t\\n\\r]') THEN {escaped} ELSE {text} END"
    )


def _field_sql(name: str, kind: pa.DataType, *, plain: bool) -> str:
    column = f'"{name}"'
    if kind == FLOAT:
        return (
            f"CASE WHEN {column} IS NULL THEN '\\N' WHEN {column} = 0 THEN '0' "
            f"ELSE CAST(CAST({column} AS DOUBLE) AS VARCHAR) END"
        )
    if kind == INT:
        return f"coalesce(CAST(CAST({column} AS BIGINT) AS VARCHAR), '\\N')"
    return _text_sql(column, plain=plain)


@lru_cache(maxsize=64)
def line_sql(plain_text: frozenset[str] = frozenset()) -> str:
    """The DuckDB expression of one canonical line; `plain_text` columns are not escaped."""
    fields = ", ".join(_field_sql(name, kind, plain=name in plain_text) for name, kind in COLUMNS)
    return f"concat_ws(chr(9), {fields}) || chr(10)"


LINE_SQL = line_sql()


def content_id(
    con: Any,
    relation_sql: str,
    tree: str,
    *,
    presorted: bool = False,
    plain_text: Collection[str] = (),
) -> tuple[str, int]:
    """(snapshot ID, row count) of the rows `relation_sql` yields in DuckDB `con`.

    `relation_sql` is any DuckDB query with the `COLUMNS` names (an export file via
    `read_parquet`, a registered Arrow table); `tree` is the canonical tree JSON.
    `presorted` promises that the relation yields its rows in strictly increasing
    factor order (check it with `strictly_sorted`): the lines then stream in scan
    order and the sort, the costliest step, is skipped. `plain_text` promises that
    those text columns hold no character that needs escaping (`plain_text_columns`).
    """
    digest = hashlib.sha256()
    digest.update(MAGIC.encode("utf-8"))
    digest.update(tree.encode("utf-8"))
    digest.update(b"\n")
    order = "" if presorted else " ORDER BY factor, line"
    con.execute("SET preserve_insertion_order = true")
    line = line_sql(frozenset(plain_text))
    result = con.sql(f"SELECT {line} AS line FROM ({relation_sql}){order}")
    rows = 0
    for batch in result.to_arrow_reader(BATCH_ROWS):
        column = batch.column(0)
        rows += len(column)
        _update_from_strings(digest, column)
    return digest.hexdigest(), rows


def table_content_id(table: pa.Table, tree: str) -> tuple[str, int]:
    """(snapshot ID, row count) of an Arrow table with the `COLUMNS` names, in any order."""
    con = duckdb_connect()
    try:
        con.register("snapshot_rows", table)
        return content_id(
            con,
            "SELECT * FROM snapshot_rows",
            tree,
            presorted=strictly_sorted(table["factor"]),
            plain_text=plain_text_columns(table),
        )
    finally:
        con.close()


def plain_text_columns(table: pa.Table) -> frozenset[str]:
    """The text columns of `table` in which no value holds a character that needs escaping.

    Searches each string array's data bytes (`bytes.__contains__` is a `memchr`), so a
    million rows take a few tens of milliseconds instead of a regex per value.
    """
    return frozenset(
        name
        for name, kind in COLUMNS
        if kind == TEXT
        and name in table.column_names
        and all(_plain_chunk(chunk) for chunk in table[name].chunks)
    )


def _plain_chunk(chunk: pa.Array) -> bool:
    if pa.types.is_null(chunk.type):
        return True
    view = _string_bytes(chunk)
    if view is None:
        return False
    data = bytes(view)  # a memoryview's `in` compares items, not substrings
    return not any(special in data for special in ESCAPED_BYTES)


def _string_bytes(column: pa.Array) -> memoryview | None:
    """The bytes of a string array's values, end to end; None for other types."""
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return None
    _, offsets, data = column.buffers()
    if data is None or len(column) == 0:
        return memoryview(b"")
    width = 8 if pa.types.is_large_string(column.type) else 4
    offs = memoryview(offsets).cast("q" if width == 8 else "i")
    return memoryview(data)[offs[column.offset] : offs[column.offset + len(column)]]


def strictly_sorted(factors: pa.ChunkedArray | pa.Array) -> bool:
    """Whether factor IDs are in strictly increasing byte order (sorted, no duplicates)."""
    if isinstance(factors, pa.ChunkedArray):
        factors = factors.combine_chunks()
    if len(factors) < 2:
        return True
    if factors.null_count:
        return False
    import pyarrow.compute as pc

    ordered = pc.less(factors.slice(0, len(factors) - 1), factors.slice(1))
    return bool(pc.all(ordered).as_py())


def _update_from_strings(digest: Any, column: pa.Array) -> None:
    """Feed the concatenated bytes of a string array without building Python strings."""
    if column.null_count:
        raise ValueError("canonical lines are never null")
    data = _string_bytes(column)
    if data is not None:
        digest.update(data)
        return
    for value in column.to_pylist():
        digest.update(value.encode("utf-8"))


def canonical_line(row: Mapping[str, Any]) -> str:
    """One factor's line, in plain Python: the reference the DuckDB path must equal."""
    fields = []
    for name, kind in COLUMNS:
        value = row.get(name)
        if value is None:
            fields.append(NULL)
        elif kind == FLOAT:
            fields.append(canonical_number(value))
        elif kind == INT:
            fields.append(str(int(value)))
        else:
            text = str(value)
            text = text.replace("\\", "\\\\").replace("\t", "\\t")
            fields.append(text.replace("\n", "\\n").replace("\r", "\\r"))
    return "\t".join(fields) + "\n"


def reference_id(rows: Iterable[Mapping[str, Any]], tree: str) -> str:
    """The snapshot ID computed row by row in Python (slow; for tests and the docs)."""
    lines = sorted(canonical_line(row) for row in rows)
    lines.sort(key=lambda line: line.split("\t", 1)[0])
    text = MAGIC + tree + "\n" + "".join(lines)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
