"""Exports: self-describing Parquet that verifies from the file alone; CSV for people."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from factordb.db import session_scope
from factordb.errors import ValidationFailed
from factordb.principals import SYSTEM
from snapshots import service
from snapshots.reader import SnapshotMismatch, open_snapshot, verify_file
from tests.snapshots.conftest import validate
from tests.snapshots.content import seed


@pytest.fixture
def exported(db_url: str, tmp_path: Path) -> tuple[str, Path]:
    with session_scope(db_url) as s:
        seed(s)
    with session_scope(db_url) as s:
        snapshot_id = service.publish(s, caller=SYSTEM, label="2025-Q1")["snapshot_id"]
        service.export(s, snapshot_id, out=tmp_path / "export.parquet")
    return snapshot_id, tmp_path / "export.parquet"


def _rewrite(path: Path, out: Path, change) -> Path:  # type: ignore[no-untyped-def]
    table = pq.read_table(path)
    metadata = dict(table.schema.metadata)
    table, metadata = change(table, metadata)
    pq.write_table(table.replace_schema_metadata(metadata), out)
    return out


def _value_times(table: pa.Table, metadata: dict) -> tuple[pa.Table, dict]:
    index = table.column_names.index("value")
    return table.set_column(index, "value", pc.multiply(table["value"], 1.001)), metadata


TAMPERING = {
    "one changed value": _value_times,
    "one dropped row": lambda t, m: (t.slice(1), m),
    "a changed claimed ID": lambda t, m: (t, {**m, b"factordb.snapshot_id": b"f" * 64}),
    "a changed tree": lambda t, m: (
        t,
        {**m, b"factordb.tree": m[b"factordb.tree"].replace(b"CN-EAST", b"CN-WEST")},
    ),
    "a changed row count": lambda t, m: (t, {**m, b"factordb.rows": b"5"}),
}


def test_an_export_verifies_from_the_file_alone(exported: tuple[str, Path]) -> None:
    snapshot_id, path = exported
    document = verify_file(path)
    assert document == {"snapshot_id": snapshot_id, "computed": snapshot_id, "ok": True, "rows": 4}
    validate(document, "snapshot-verify.json")


def test_the_reader_answers_lookups_from_a_verified_export(exported: tuple[str, Path]) -> None:
    snapshot_id, path = exported
    pinned = open_snapshot(path)
    assert (pinned.snapshot_id, pinned.sequence, pinned.label) == (snapshot_id, 1, "2025-Q1")
    assert list(pinned.factors["factor"]) == sorted(pinned.factors["factor"])
    assert pinned.factor("cnbrc:ncm811-cam")["revision"] == "cnbrc:ncm811-cam@2"
    assert pinned.factor("cnbrc:odd-numbers")["name"] == "镍\\钴\t锰\n硫酸盐\r"
    grid = pinned.candidates("energy.electricity.grid", "CN-EAST")
    assert list(grid["factor"]) == ["cnbrc:grid-east"]
    assert pinned.geography_chain("CN-JS") == ["CN-JS", "CN-EAST", "CN", "GLO"]


@pytest.mark.parametrize("how", sorted(TAMPERING))
def test_a_tampered_export_fails_verification(
    exported: tuple[str, Path], tmp_path: Path, how: str
) -> None:
    tampered = _rewrite(exported[1], tmp_path / "tampered.parquet", TAMPERING[how])
    assert verify_file(tampered)["ok"] is False
    with pytest.raises(SnapshotMismatch):
        open_snapshot(tampered)


def test_a_csv_export_is_for_people_and_cannot_be_verified(db_url: str, tmp_path: Path) -> None:
    with session_scope(db_url) as s:
        seed(s)
    with session_scope(db_url) as s:
        snapshot_id = service.publish(s, caller=SYSTEM)["snapshot_id"]
        written = service.export(s, snapshot_id, out=tmp_path / "export.csv", fmt="csv")
    assert written["rows"] == 4
    assert (tmp_path / "export.csv").read_text("utf-8").startswith("factor,revision,provider,")
    with pytest.raises(ValidationFailed, match="CSV export"):
        verify_file(tmp_path / "export.csv")
    with pytest.raises(ValidationFailed, match="CSV export"):
        open_snapshot(tmp_path / "export.csv")


def test_a_parquet_file_that_is_not_an_export_is_refused(tmp_path: Path) -> None:
    pq.write_table(pa.table({"x": [1]}), tmp_path / "other.parquet")
    with pytest.raises(ValidationFailed, match="not a factordb snapshot export"):
        verify_file(tmp_path / "other.parquet")


def test_a_missing_cache_is_rebuilt_from_the_registry(
    db_url: str, exported: tuple[str, Path], snapshot_cache: Path, tmp_path: Path
) -> None:
    snapshot_id, first = exported
    for cached in snapshot_cache.iterdir():
        cached.unlink()
    with session_scope(db_url) as s:
        service.export(s, "2025-Q1", out=tmp_path / "rebuilt.parquet")
    assert verify_file(tmp_path / "rebuilt.parquet")["computed"] == snapshot_id
    assert pq.read_table(tmp_path / "rebuilt.parquet").equals(pq.read_table(first))


def test_a_repeated_export_reuses_the_cached_file(
    db_url: str, exported: tuple[str, Path], snapshot_cache: Path, tmp_path: Path
) -> None:
    snapshot_id, _ = exported
    cached = snapshot_cache / f"{snapshot_id}.parquet"
    before = cached.stat().st_mtime_ns
    with session_scope(db_url) as s:
        service.export(s, snapshot_id, out=tmp_path / "again.parquet")
    assert cached.stat().st_mtime_ns == before


def test_an_unknown_export_format_is_refused(db_url: str, exported: tuple[str, Path]) -> None:
    with session_scope(db_url) as s, pytest.raises(ValidationFailed, match="parquet or csv"):
        service.export(s, exported[0], out=exported[1].with_suffix(".xlsx"), fmt="xlsx")
