"""The tabular form (packs + lines tables, CSV or Parquet) computes exactly as the documents do."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from jsonschema import Draft202012Validator

from calculator.service import calculate, run_tabular
from tests.calculator.conftest import LI2CO3, line, pack, power, to_tabular

DOCUMENTS = [
    {
        "pack": pack(id="NCM", depth_of_discharge=0.9),
        "lines": [
            line(100, "kg", factor="cnbrc:ncm811-cam"),
            line(12, "kg", classification=LI2CO3, geography="CN-GD", provider="tianqi"),
            power("regional_grid", 3.4, "MWh", geography="CN-JS"),
            power("green_certificates", 1500, certified_kwh=1000, geography="CN-GD"),
            line(350, "t*km", "transport", factor="cnbrc:truck-diesel-40t"),
        ],
    },
    {
        "pack": {
            "id": "LFP",
            "rated_energy_kwh": 60,
            "method": "eu",
            "usable_energy_kwh": 55,
            "service_life_years": 10,
            "vehicle_category": "M1",
            "country": "DE",
        },
        "lines": [
            line(480, "kg", "recycling", factor="cnbrc:hydromet-ncm"),
            power("national_average", 800),
            power(
                "green_certificates",
                2,
                "MWh",
                certified_kwh=500,
                geography="CN-JS",
                remainder="residual_mix",
            ),
            power("direct_connection", 2000, factor="cec:plant-sc-hydro"),
        ],
    },
    {"pack": pack(id="GIVEN", lifetime_energy_kwh=99000), "lines": []},
]


def read(path: Path) -> list[dict[str, Any]]:
    nulls = pacsv.ConvertOptions(strings_can_be_null=True)
    table = (
        pacsv.read_csv(path, convert_options=nulls)
        if path.suffix == ".csv"
        else pq.read_table(path)
    )
    return table.to_pylist()


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_tabular_results_equal_the_json_results(pinned: Any, tmp_path: Path, fmt: str) -> None:
    expected = calculate(pinned, {"packs": DOCUMENTS}, draws=200, seed=5)
    packs, lines = to_tabular(DOCUMENTS, tmp_path, fmt)
    out, lines_out = tmp_path / f"results.{fmt}", tmp_path / f"parts.{fmt}"
    summary = run_tabular(pinned, packs, lines, out, lines_out, draws=200, seed=5)
    rows = read(out)
    assert [r["pack"] for r in rows] == ["NCM", "LFP", "GIVEN"]
    for row, computed in zip(rows, expected["packs"], strict=True):
        assert row["total_kg_co2e"] == computed["total_kg_co2e"]
        assert {s: row[s] for s in computed["stages"]} == computed["stages"]
        assert row["kg_co2e_per_kwh_rated"] == computed["kg_co2e_per_kwh_rated"]
        assert row["kg_co2e_per_kwh_delivered"] == computed["kg_co2e_per_kwh_delivered"]
        assert row["lifetime_energy_kwh"] == computed["lifetime_energy_kwh"]
        assert row["dqr"] == computed["dqr"]
        assert {k: row[k] for k in ("p2_5", "p50", "p97_5")} == {
            k: computed["uncertainty"][k] for k in ("p2_5", "p50", "p97_5")
        }
    parts = read(lines_out)
    expected_parts = [(p["pack"], item) for p in expected["packs"] for item in p["lines"]]
    assert [(r["pack"], r["index"], r["part"], r["revision"], r["kg_co2e"]) for r in parts] == [
        (name, i["index"], i["part"], i["revision"], i["kg_co2e"]) for name, i in expected_parts
    ]
    assert (summary["packs"], summary["lines"], summary["parts"]) == (3, 9, 11)
    assert summary["citations"] == sorted({c for p in expected["packs"] for c in p["citations"]})


def test_summary_matches_its_schema(pinned: Any, tmp_path: Path) -> None:
    packs, lines = to_tabular(DOCUMENTS, tmp_path, "csv")
    summary = run_tabular(pinned, packs, lines)
    text = resources.files("schemas").joinpath("calc-summary.json").read_text(encoding="utf-8")
    Draft202012Validator(json.loads(text)).validate(summary)
    assert summary["snapshot_id"] == pinned.snapshot_id
    assert summary["out"] is None


def test_lines_of_packs_interleaved_in_the_file_give_the_same_results(
    pinned: Any, tmp_path: Path
) -> None:
    packs, lines = to_tabular(DOCUMENTS, tmp_path, "parquet")
    table = pq.read_table(lines)
    shuffled = tmp_path / "shuffled.parquet"
    order = [0, 5, 1, 6, 2, 7, 3, 8, 4]
    pq.write_table(table.take(pa.array(order)), shuffled)
    out_a, out_b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    run_tabular(pinned, packs, lines, out_a)
    run_tabular(pinned, packs, shuffled, out_b)
    assert read(out_a) == read(out_b)


FACTORS = {
    "cnbrc:ncm811-cam": (26.8, "kg", 1.0),
    "cnbrc:electrolyte": (20.0, "kg", 1.0),
    "cnbrc:hydromet-ncm": (0.8, "kg", 1.0),
    "cnbrc:natural-gas": (0.056, "GJ", 1000.0),
    "cnbrc:truck-diesel-40t": (0.062, "t*km", 1.0),
}


def test_thousands_of_packs_equal_a_plain_float64_computation(pinned: Any, tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    n_packs, per_pack = 3000, 12
    names = list(FACTORS)
    chosen = rng.integers(0, len(names), n_packs * per_pack)
    quantity = rng.uniform(0.1, 500.0, n_packs * per_pack).round(3)
    pack_of = np.repeat(np.arange(n_packs), per_pack)
    stage = np.where(chosen == 2, "recycling", np.where(chosen == 4, "transport", "materials"))
    pq.write_table(
        pa.table(
            {
                "id": [f"P{i:05d}" for i in range(n_packs)],
                "rated_energy_kwh": np.full(n_packs, 75.0),
                "cycle_life": rng.integers(1000, 4000, n_packs).astype(float),
            }
        ),
        tmp_path / "packs.parquet",
    )
    pq.write_table(
        pa.table(
            {
                "pack": [f"P{i:05d}" for i in pack_of],
                "stage": stage,
                "factor": [names[c] for c in chosen],
                "quantity": quantity,
                "unit": [FACTORS[names[c]][1] for c in chosen],
            }
        ),
        tmp_path / "lines.parquet",
    )
    summary = run_tabular(
        pinned, tmp_path / "packs.parquet", tmp_path / "lines.parquet", tmp_path / "out.parquet"
    )
    value = np.array([FACTORS[n][0] * FACTORS[n][2] for n in names])
    plain = np.bincount(pack_of, weights=quantity * value[chosen], minlength=n_packs)
    totals = pq.read_table(tmp_path / "out.parquet").column("total_kg_co2e").to_numpy()
    assert summary["packs"] == n_packs
    assert summary["lines"] == n_packs * per_pack
    np.testing.assert_allclose(totals, plain, rtol=1e-12)
    one = int(rng.integers(0, n_packs))
    lines = [
        line(
            float(quantity[i]), FACTORS[names[chosen[i]]][1], str(stage[i]), factor=names[chosen[i]]
        )
        for i in range(one * per_pack, (one + 1) * per_pack)
    ]
    cycle_life = pq.read_table(tmp_path / "packs.parquet").column("cycle_life")[one].as_py()
    alone = calculate(pinned, {"pack": pack(cycle_life=cycle_life), "lines": lines})
    assert alone["packs"][0]["total_kg_co2e"] == totals[one]
