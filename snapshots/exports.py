"""Export files, cached per snapshot ID: the Parquet written at publish, CSV on demand.

A snapshot never changes, so its export is built once per cache directory
(`FACTORDB_SNAPSHOT_CACHE_DIR`, default `~/.cache/factordb/snapshots`) and reused;
a cached file is trusted only when its manifest matches the registry's row for that
snapshot, otherwise it is rebuilt from the registry (and its hash checked on the way).
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy.orm import Session

from factordb.errors import ValidationFailed
from factordb.models import Snapshot
from factordb.settings import get_settings
from snapshots import rows
from snapshots.fileformat import (
    SnapshotMismatch,
    iso_utc,
    manifest,
    read_manifest,
    write_parquet,
)
from snapshots.hashing import content_id
from snapshots.resolve import get_snapshot

FORMATS = ("parquet", "csv")


def cache_dir() -> Path:
    configured = get_settings().snapshot_cache_dir
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "factordb" / "snapshots"


class SortedRows:
    """A snapshot's rows sorted by factor in a private DuckDB table, hashed and written from there.

    Sorting once serves both the hash (whose lines then stream in scan order) and the
    Parquet writer. Factor IDs are unique in what the registry hands over (one row per
    factor), so the sorted order is strict.
    """

    TABLE = "snapshot_rows"

    def __init__(self, table: pa.Table) -> None:
        import duckdb

        self.con = duckdb.connect()
        self.con.execute("SET preserve_insertion_order = true")
        self.con.register("raw_rows", table)
        self.con.execute(f"CREATE TABLE {self.TABLE} AS SELECT * FROM raw_rows ORDER BY factor")
        self.con.unregister("raw_rows")
        self.count = table.num_rows

    def content_id(self, tree: str) -> str:
        return content_id(self.con, f"SELECT * FROM {self.TABLE}", tree, presorted=True)[0]

    def write(self, snapshot: Snapshot) -> Path:
        """Write the Parquet export of `snapshot` into the cache."""
        return self.write_with(snapshot.id, manifest_of(snapshot))

    def write_with(self, snapshot_id: str, meta: dict[str, str]) -> Path:
        """Write the export with an already-built manifest (safe to run on another thread)."""
        path = cache_dir() / f"{snapshot_id}.parquet"
        write_parquet(self.con, f"SELECT * FROM {self.TABLE}", path, meta, presorted=True)
        return path

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> SortedRows:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def manifest_of(snapshot: Snapshot) -> dict[str, str]:
    return manifest(
        snapshot_id=snapshot.id,
        sequence=snapshot.sequence,
        label=snapshot.label,
        parent=snapshot.parent,
        published_at=iso_utc(snapshot.published_at),
        rows=snapshot.factor_count,
        tree=snapshot.tree,
    )


def _cached_parquet(session: Session, snapshot: Snapshot) -> Path:
    path = cache_dir() / f"{snapshot.id}.parquet"
    if path.is_file():
        try:
            if read_manifest(path) == manifest_of(snapshot):
                return path
        except ValidationFailed:
            pass
    table = rows.fetch(
        session,
        "(SELECT factor_pk, revision_pk FROM snapshot_factor "
        f"WHERE snapshot_id = '{_checked_id(snapshot.id)}')",
    )
    with SortedRows(table) as frozen:
        del table
        computed = frozen.content_id(snapshot.tree)
        if computed != snapshot.id:
            raise SnapshotMismatch(
                f"the registry's rows of snapshot {snapshot.id} hash to {computed}; "
                "the registry is damaged"
            )
        return frozen.write(snapshot)


def _cached_csv(session: Session, snapshot: Snapshot) -> Path:
    import duckdb

    path = cache_dir() / f"{snapshot.id}.csv"
    if path.is_file():
        return path
    parquet = _cached_parquet(session, snapshot)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    con = duckdb.connect()
    try:
        con.execute(
            f"COPY (SELECT * FROM read_parquet('{_sql(parquet)}') ORDER BY factor) "
            f"TO '{_sql(tmp)}' (FORMAT csv, HEADER true)"
        )
        tmp.replace(path)
    finally:
        con.close()
        tmp.unlink(missing_ok=True)
    return path


def export_file(session: Session, ref: str, *, fmt: str = "parquet") -> tuple[Snapshot, Path]:
    """The snapshot and its cached export file in `fmt` (parquet | csv), built if missing."""
    if fmt not in FORMATS:
        raise ValidationFailed(
            f"unknown export format {fmt!r}: use parquet or csv",
            errors=[{"field": "format", "value": fmt, "reason": "parquet | csv"}],
        )
    snapshot = get_snapshot(session, ref)
    if fmt == "csv":
        return snapshot, _cached_csv(session, snapshot)
    return snapshot, _cached_parquet(session, snapshot)


def export(session: Session, ref: str, *, out: Path, fmt: str = "parquet") -> dict[str, Any]:
    """Write the export of snapshot `ref` to `out`; returns what was written."""
    if out.is_dir():
        raise ValidationFailed(f"--out {out} is a directory; give a file path")
    snapshot, cached = export_file(session, ref, fmt=fmt)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex}.tmp")
    try:
        shutil.copyfile(cached, tmp)
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    return {
        "snapshot_id": snapshot.id,
        "format": fmt,
        "path": str(out),
        "rows": snapshot.factor_count,
        "bytes": out.stat().st_size,
    }


def _checked_id(snapshot_id: str) -> str:
    if len(snapshot_id) != 64 or any(c not in "0123456789abcdef" for c in snapshot_id):
        raise ValidationFailed(f"not a snapshot ID: {snapshot_id[:70]!r}")
    return snapshot_id


def _sql(path: Path) -> str:
    return str(path).replace("'", "''")
