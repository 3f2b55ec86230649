"""One hand-made snapshot file for the calculator's tests, and helpers to run packs on it.

Values are chosen so every expected result below can be checked by hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from calculator.service import calculate, open_pinned
from tests.calculator.snapshot_files import factor, write_snapshot

GRID = "energy.electricity.grid"
LI2CO3 = "material.lithium.carbonate"
GRAPHITE = "material.anode.graphite-natural"

FACTORS = [
    factor(
        "cnbrc:ncm811-cam",
        "material.cathode.ncm811",
        26.8,
        dqr=(3, 3, 2, 4),
        uncertainty="triangular",
        low=18.0,
        high=36.0,
    ),
    # Lithium carbonate at every level of the chain; two providers at CN.
    factor("cnbrc:li2co3-js", LI2CO3, 24.0, geography="CN-JS"),
    factor("cnbrc:li2co3-east", LI2CO3, 20.0, geography="CN-EAST"),
    factor("cnbrc:li2co3-cn", LI2CO3, 22.0),
    factor("tianqi:li2co3-cn", LI2CO3, 23.0),
    factor("cnbrc:li2co3-glo", LI2CO3, 25.0, geography="GLO"),
    # Natural graphite at the North grid, CN and GLO only.
    factor("cnbrc:graphite-north", GRAPHITE, 5.0, geography="CN-NORTH"),
    factor("cnbrc:graphite-cn", GRAPHITE, 4.0),
    factor("cnbrc:graphite-glo", GRAPHITE, 3.0, geography="GLO"),
    factor(
        "cnbrc:electrolyte",
        "material.electrolyte.lipf6",
        20.0,
        dqr=(1, 2, 3, 2),
        uncertainty="lognormal",
        gsd=1.2,
    ),
    # Electricity.
    factor("cec:grid-cn", GRID, 0.5366, unit="kWh", uncertainty="lognormal", gsd=1.05),
    factor("cec:grid-east", GRID, 0.5617, unit="kWh", geography="CN-EAST"),
    factor("cec:grid-south", GRID, 0.4, unit="kWh", geography="CN-SOUTH"),
    factor("cec:grid-north", GRID, 0.6776, unit="kWh", geography="CN-NORTH"),
    factor("cec:grid-js", GRID, 0.55, unit="kWh", geography="CN-JS"),
    factor("cec:grid-de", GRID, 0.38, unit="kWh", geography="DE"),
    factor("cec:residual-cn", "energy.electricity.residual-mix", 0.58, unit="kWh"),
    factor("cec:green-cn", "energy.electricity.green-certificate", 0.02, unit="kWh"),
    factor(
        "cec:green-gd", "energy.electricity.green-certificate", 0.01, unit="kWh", geography="CN-GD"
    ),
    factor(
        "cec:plant-sc-hydro",
        "energy.electricity.direct-connection",
        0.012,
        unit="kWh",
        geography="CN-SC",
    ),
    factor("cnbrc:natural-gas", "energy.natural-gas", 0.056, unit="MJ", dqr=None),
    # Transport and recycling.
    factor(
        "cnbrc:truck-diesel-40t",
        "transport.road.truck-diesel",
        0.062,
        unit="t*km",
        dqr=None,
        uncertainty="normal",
        sd=0.002,
    ),
    factor(
        "cnbrc:hydromet-ncm",
        "recycling.hydrometallurgical",
        0.8,
        dqr=(2, 2, 2, 2),
        uncertainty="uniform",
        low=0.6,
        high=1.0,
    ),
    # A credit: recovered material displaces primary production.
    factor(
        "cnbrc:direct-recycling-credit",
        "recycling.direct",
        -2.0,
        dqr=(4, 4, 4, 4),
        uncertainty="lognormal",
        gsd=1.1,
    ),
]


@pytest.fixture(scope="session")
def snapshot_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_snapshot(FACTORS, tmp_path_factory.mktemp("snapshot") / "snapshot.parquet")


@pytest.fixture(scope="session")
def pinned(snapshot_path: Path) -> Any:
    return open_pinned(snapshot_path)


def pack(**fields: Any) -> dict[str, Any]:
    return {"id": "P1", "rated_energy_kwh": 75.0, "cycle_life": 2000, **fields}


def run(pinned: Any, *lines: dict[str, Any], **pack_fields: Any) -> dict[str, Any]:
    """The one pack's result for `lines`."""
    return calculate(pinned, {"pack": pack(**pack_fields), "lines": list(lines)})["packs"][0]


def line(quantity: float, unit: str, stage: str = "materials", **fields: Any) -> dict[str, Any]:
    return {"stage": stage, "quantity": quantity, "unit": unit, **fields}


def power(model: str, quantity: float, unit: str = "kWh", **fields: Any) -> dict[str, Any]:
    return line(quantity, unit, "manufacturing", electricity={"model": model, **fields})


TABULAR_FIELDS = (
    "factor",
    "classification",
    "geography",
    "provider",
    "electricity_model",
    "certified_kwh",
    "remainder",
)


def to_tabular(documents: list[dict[str, Any]], folder: Path, fmt: str) -> tuple[Path, Path]:
    """Write pack documents as a packs table and a lines table (csv or parquet)."""
    pack_rows = [d["pack"] for d in documents]
    line_rows = []
    for document in documents:
        for item in document["lines"]:
            electricity = item.get("electricity") or {}
            row = {
                "pack": document["pack"]["id"],
                "stage": item["stage"],
                "quantity": item["quantity"],
                "unit": item["unit"],
            }
            for name in TABULAR_FIELDS:
                row[name] = electricity.get(name, item.get(name))
            row["electricity_model"] = electricity.get("model")
            line_rows.append(row)
    packs_path, lines_path = folder / f"packs.{fmt}", folder / f"lines.{fmt}"
    for rows, path in ((pack_rows, packs_path), (line_rows, lines_path)):
        columns = sorted({k for r in rows for k in r})
        table = pa.table(
            {c: pa.array([_cell(r.get(c)) for r in rows], _kind(rows, c)) for c in columns}
        )
        if fmt == "csv":
            pacsv.write_csv(table, path)
        else:
            pq.write_table(table, path)
    return packs_path, lines_path


def _kind(rows: list[dict[str, Any]], column: str) -> pa.DataType:
    values = [r.get(column) for r in rows if r.get(column) is not None]
    numeric = values and all(isinstance(v, int | float) for v in values)
    return pa.float64() if numeric and column != "id" else pa.string()


def _cell(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, dict | list) else value
