"""Export files, cached per snapshot ID: the Parquet written at publish, CSV on demand.

A snapshot never changes, so its export is built once per cache directory
(`FACTORDB_SNAPSHOT_CACHE_DIR`, default `~/.cache/factordb/snapshots`) and reused;
a cached file is trusted only when its manifest matches the registry's row for that
snapshot, otherwise it is rebuilt from the registry (and its hash checked on the way).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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
    duckdb_connect,
    iso_utc,
    manifest,
    read_manifest,
    write_parquet,
)
from snapshots.hashing import content_id, plain_text_columns, strictly_sorted
from snapshots.resolve import get_snapshot

FORMATS = ("parquet", "csv")


def cache_dir() -> Path:
    configured = get_settings().snapshot_cache_dir
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "factordb" / "snapshots"


class SortedRows:
    """A snapshot's rows sorted by factor, hashed and written from one Arrow table.

    Sorting once serves both the hash (whose lines then stream in scan order) and the
    Parquet writer. Arrow sorts the factor column alone (byte order) and gathers the
    rows once (column by column, on two threads), a fraction of what a sorted copy into
    DuckDB costs, and not at all when the rows already come in factor order (checked in
    one vectorised comparison); DuckDB then reads the sorted table in place. Factor IDs
    are unique in what the registry hands over (one row per factor), so the sorted
    order is strict. The sort runs on first use (`sort`), so `publish` can leave it to
    the thread that hashes while the database inserts.
    """

    TABLE = "snapshot_rows"

    def __init__(self, table: pa.Table) -> None:
        self.table = table
        self.count = table.num_rows
        self._connections: list[Any] = []
        self._sorting = threading.Lock()
        self._sorted = False

    def sort(self) -> None:
        """Sort once, on whichever thread first needs the order (publish: not the caller's)."""
        import pyarrow.compute as pc

        with self._sorting:
            if self._sorted:
                return
            table = self.table
            if not strictly_sorted(table["factor"]):
                order = pc.sort_indices(table["factor"])
                # Column by column on two threads (Arrow's take releases the GIL).
                with ThreadPoolExecutor(2) as pool:
                    columns = list(pool.map(lambda column: pc.take(column, order), table.columns))
                self.table = pa.table(columns, schema=table.schema)
            self._sorted = True

    def _connect(self) -> Any:
        """A DuckDB connection reading the sorted table in place; one per thread."""
        self.sort()
        con = duckdb_connect()
        con.register(self.TABLE, self.table)
        self._connections.append(con)
        return con

    def content_id(self, tree: str) -> str:
        con = self._connect()
        return content_id(
            con,
            f"SELECT * FROM {self.TABLE}",
            tree,
            presorted=True,
            plain_text=plain_text_columns(self.table),
        )[0]

    def stage(self, snapshot_id: str, meta: dict[str, str]) -> Path:
        """Write the export under a staging name in the cache; `adopt` moves it into place."""
        staged = cache_dir() / f".{snapshot_id}.{uuid.uuid4().hex}.staged"
        write_parquet(self._connect(), f"SELECT * FROM {self.TABLE}", staged, meta, presorted=True)
        return staged

    def hash_and_stage(self, tree: str, meta: Callable[[str], dict[str, str]]) -> tuple[str, Path]:
        """The ID, then the export staged with the manifest `meta(ID)`.

        `publish` runs this on a thread while the database fills the snapshot; it adopts
        the staged file once the snapshot proves new, else drops it.
        """
        snapshot_id = self.content_id(tree)
        return snapshot_id, self.stage(snapshot_id, meta(snapshot_id))

    def write(self, snapshot: Snapshot) -> Path:
        """Write the Parquet export of `snapshot` into the cache."""
        return adopt(self.stage(snapshot.id, manifest_of(snapshot)), snapshot.id)

    def close(self) -> None:
        for con in self._connections:
            con.close()
        self._connections.clear()

    def __enter__(self) -> SortedRows:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def adopt(staged: Path, snapshot_id: str) -> Path:
    """Move a staged export (`SortedRows.hash_and_stage`) to its place in the cache."""
    path = cache_dir() / f"{snapshot_id}.parquet"
    staged.replace(path)
    return path


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
    table = rows.fetch(session, rows.snapshot_keys_sql(snapshot.sequence))
    with SortedRows(table) as frozen, ThreadPoolExecutor(1) as pool:
        del table
        # The export is written beside the hash check, and kept only if the check holds.
        staging = pool.submit(frozen.stage, snapshot.id, manifest_of(snapshot))
        try:
            computed = frozen.content_id(snapshot.tree)
        except BaseException:
            with contextlib.suppress(Exception):
                staging.result().unlink(missing_ok=True)
            raise
        staged = staging.result()
        try:
            if computed != snapshot.id:
                raise SnapshotMismatch(
                    f"the registry's rows of snapshot {snapshot.id} hash to {computed}; "
                    "the registry is damaged"
                )
            return adopt(staged, snapshot.id)
        finally:
            staged.unlink(missing_ok=True)


def _cached_csv(session: Session, snapshot: Snapshot) -> Path:
    path = cache_dir() / f"{snapshot.id}.csv"
    if path.is_file():
        return path
    parquet = _cached_parquet(session, snapshot)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    con = duckdb_connect()
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


def _sql(path: Path) -> str:
    return str(path).replace("'", "''")
