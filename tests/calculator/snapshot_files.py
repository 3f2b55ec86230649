"""Pinned snapshots for calculator tests: factor rows → a real, hash-verified export file."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import pyarrow as pa

from factordb.classification import shipped_geographies, shipped_nodes
from snapshots.fileformat import COLUMN_NAMES, SCHEMA, manifest, tree_json, write_parquet
from snapshots.hashing import content_id

BASE_UNITS = {"kg": "mass", "kWh": "electricity", "MJ": "heat", "m3": "volume", "t*km": "transport"}


def factor(
    factor_id: str,
    classification: str,
    value: float,
    *,
    geography: str = "CN",
    unit: str = "kg",
    revision: int = 1,
    dqr: tuple[int, int, int, int] | None = (2, 2, 2, 2),
    uncertainty: str | None = None,
    gsd: float | None = None,
    sd: float | None = None,
    low: float | None = None,
    high: float | None = None,
) -> dict[str, Any]:
    """One snapshot row with deterministic defaults; `value` is kg CO2e per `unit` (base)."""
    provider, code = factor_id.split(":")
    ter, ger, tir, p = dqr or (None, None, None, None)
    row: dict[str, Any] = dict.fromkeys(COLUMN_NAMES)
    row.update(
        factor=factor_id,
        revision=f"{factor_id}@{revision}",
        provider=provider,
        code=code,
        name=f"{code} ({geography})",
        classification=classification,
        geography=geography,
        reference_year=2023,
        value=float(value),
        unit=unit,
        dimension=BASE_UNITS[unit],
        original_value=float(value),
        original_unit=f"kgCO2e/{unit}",
        gwp_basis="AR6",
        uncertainty=uncertainty,
        gsd=gsd,
        sd=sd,
        min=low,
        max=high,
        dqr_ter=ter,
        dqr_ger=ger,
        dqr_tir=tir,
        dqr_p=p,
        source="calculator test",
        change_reason="new_data",
    )
    return row


def tree() -> str:
    nodes = [{**asdict(n), "dimensions": ";".join(n.dimensions)} for n in shipped_nodes()]
    return tree_json(nodes, [asdict(g) for g in shipped_geographies()])


def write_snapshot(rows: list[dict[str, Any]], path: Path, *, label: str = "test") -> Path:
    """Write `rows` as a snapshot export at `path` whose ID is its content hash."""
    import duckdb

    table = pa.Table.from_pylist(sorted(rows, key=lambda r: r["factor"]), schema=SCHEMA)
    text = tree()
    con = duckdb.connect()
    try:
        con.register("rows_in", table)
        snapshot_id, count = content_id(con, "SELECT * FROM rows_in", text)
        meta = manifest(
            snapshot_id=snapshot_id,
            sequence=1,
            label=label,
            parent=None,
            published_at="2025-01-01T00:00:00Z",
            rows=count,
            tree=text,
        )
        write_parquet(con, "SELECT * FROM rows_in", path, meta)
    finally:
        con.close()
    return path
