"""The export file: one Parquet file holding a snapshot's factors, tree and manifest.

Columns are `COLUMNS` in that order, rows sorted by `factor`. The manifest and the
classification tree with the geographies travel as Parquet key-value metadata
(`factordb.*`), so the file describes itself and its ID can be recomputed from it alone.
Light on purpose: pyarrow and DuckDB only.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from factordb.errors import Immutable, ValidationFailed
from factordb.hashing import canonical_json

FORMAT_VERSION = "1"

TEXT = pa.string()
FLOAT = pa.float64()
INT = pa.int64()

# (name, arrow type); the order is part of the format and of the content hash.
COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("factor", TEXT),
    ("revision", TEXT),
    ("provider", TEXT),
    ("code", TEXT),
    ("name", TEXT),
    ("classification", TEXT),
    ("geography", TEXT),
    ("reference_year", INT),
    ("technology", TEXT),
    ("value", FLOAT),
    ("unit", TEXT),
    ("dimension", TEXT),
    ("original_value", FLOAT),
    ("original_unit", TEXT),
    ("gwp_basis", TEXT),
    ("co2_fossil", FLOAT),
    ("co2_biogenic", FLOAT),
    ("ch4_fossil", FLOAT),
    ("ch4_biogenic", FLOAT),
    ("n2o", FLOAT),
    ("uncertainty", TEXT),
    ("gsd", FLOAT),
    ("sd", FLOAT),
    ("min", FLOAT),
    ("max", FLOAT),
    ("dqr_ter", INT),
    ("dqr_ger", INT),
    ("dqr_tir", INT),
    ("dqr_p", INT),
    ("valid_from", TEXT),
    ("valid_to", TEXT),
    ("source", TEXT),
    ("source_url", TEXT),
    ("license", TEXT),
    ("change_reason", TEXT),
)
COLUMN_NAMES: tuple[str, ...] = tuple(name for name, _ in COLUMNS)
SCHEMA = pa.schema([pa.field(name, kind) for name, kind in COLUMNS])

CLASSIFICATION_KEYS = (
    "code",
    "parent",
    "name_en",
    "name_zh",
    "stage",
    "dimensions",
    "allows_credit",
)
GEOGRAPHY_KEYS = ("code", "parent", "kind", "name_en", "name_zh")

META_FORMAT = "factordb.format"
META_ID = "factordb.snapshot_id"
META_SEQUENCE = "factordb.sequence"
META_LABEL = "factordb.label"
META_PARENT = "factordb.parent"
META_PUBLISHED_AT = "factordb.published_at"
META_ROWS = "factordb.rows"
META_TREE = "factordb.tree"


def tree_document(
    classification: list[Mapping[str, Any]], geographies: list[Mapping[str, Any]]
) -> dict[str, list[dict[str, Any]]]:
    """The tree as frozen in a snapshot: both lists sorted by code, fixed keys."""
    return {
        "classification": sorted(
            ({key: node[key] for key in CLASSIFICATION_KEYS} for node in classification),
            key=lambda node: node["code"],
        ),
        "geographies": sorted(
            ({key: geo[key] for key in GEOGRAPHY_KEYS} for geo in geographies),
            key=lambda geo: geo["code"],
        ),
    }


def tree_json(classification: list[Mapping[str, Any]], geographies: list[Mapping[str, Any]]) -> str:
    """Canonical JSON of the tree (sorted keys, no whitespace, UTF-8 text, one line)."""
    return canonical_json(tree_document(classification, geographies))


def manifest(
    *,
    snapshot_id: str,
    sequence: int | None,
    label: str | None,
    parent: str | None,
    published_at: str | None,
    rows: int,
    tree: str,
) -> dict[str, str]:
    """The `factordb.*` key-value metadata of an export (absent values are empty strings)."""
    return {
        META_FORMAT: FORMAT_VERSION,
        META_ID: snapshot_id,
        META_SEQUENCE: "" if sequence is None else str(sequence),
        META_LABEL: label or "",
        META_PARENT: parent or "",
        META_PUBLISHED_AT: published_at or "",
        META_ROWS: str(rows),
        META_TREE: tree,
    }


def read_manifest(path: Path) -> dict[str, str]:
    """The `factordb.*` metadata of a Parquet export; a file that is not one is refused."""
    import pyarrow.parquet as pq

    if not path.is_file():
        raise ValidationFailed(f"no such file: {path}")
    with path.open("rb") as handle:
        head = handle.read(4)
    if head != b"PAR1":
        kind = "a CSV export (for humans)" if path.suffix.lower() == ".csv" else "not Parquet"
        raise ValidationFailed(
            f"{path} is {kind}: only the Parquet export carries the snapshot ID and tree; "
            "export with --format parquet"
        )
    try:
        raw = pq.read_metadata(path).metadata or {}
    except (OSError, pa.ArrowException) as exc:
        raise ValidationFailed(f"{path} is not a readable Parquet file: {exc}") from exc
    meta = {
        key.decode("utf-8"): value.decode("utf-8")
        for key, value in raw.items()
        if key.startswith(b"factordb.")
    }
    if meta.get(META_FORMAT) != FORMAT_VERSION:
        raise ValidationFailed(
            f"{path} is not a factordb snapshot export of format {FORMAT_VERSION} "
            f"(factordb.format={meta.get(META_FORMAT)!r})"
        )
    missing = [key for key in (META_ID, META_TREE, META_ROWS) if key not in meta]
    if missing:
        raise ValidationFailed(f"{path} lacks snapshot metadata: {', '.join(missing)}")
    return meta


def parse_tree(text: str) -> dict[str, list[dict[str, Any]]]:
    try:
        tree = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(f"snapshot tree metadata is not JSON: {exc}") from exc
    if not isinstance(tree, dict) or set(tree) != {"classification", "geographies"}:
        raise ValidationFailed("snapshot tree metadata must hold classification and geographies")
    return tree


def write_parquet(
    con: Any, relation_sql: str, out: Path, meta: Mapping[str, str], *, presorted: bool = False
) -> None:
    """Write `relation_sql` (a DuckDB query yielding `COLUMNS`) to `out`, sorted by factor.

    `presorted` promises the relation already yields rows in factor order (a table
    filled by an ORDER BY, scanned with insertion order preserved), so no sort is run.
    Writes to a temporary sibling and renames, so a reader never sees half a file.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex}.tmp")
    kv = ", ".join(f"{_sql_text(k)}: {_sql_text(v)}" for k, v in meta.items())
    columns = ", ".join(f'"{name}"' for name in COLUMN_NAMES)
    try:
        con.execute(
            f"COPY (SELECT {columns} FROM ({relation_sql}){'' if presorted else ' ORDER BY factor'}) "
            f"TO {_sql_text(str(tmp))} (FORMAT parquet, COMPRESSION zstd, KV_METADATA {{{kv}}})"
        )
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)


def duckdb_connect() -> Any:
    """An in-memory DuckDB connection that keeps insertion order and prints nothing.

    DuckDB draws a progress bar on stdout for queries over two seconds, even into a
    pipe, which would corrupt a command's `--json` document.
    """
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute("SET preserve_insertion_order = true")
    return con


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class SnapshotMismatch(Immutable):
    """A snapshot file's content does not hash to the ID it claims (tampered or damaged)."""


def iso_utc(moment: datetime | None) -> str | None:
    """UTC time as `2025-03-01T08:00:00.123456Z` (SQLite hands datetimes back naive)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
