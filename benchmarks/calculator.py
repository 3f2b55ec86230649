"""The embedded calculator at scale, against float64 NumPy, SciPy and Brightway.

    .venv/bin/python benchmarks/calculator.py                     # 10,000 packs x 100 lines
    .venv/bin/python benchmarks/calculator.py --packs 1000 --no-brightway

Builds (in `--workdir`) a 100,000-factor snapshot export with a real content hash,
a packs table and a Parquet lines file (90 % factor-ID lines in mixed units, 10 %
regional-grid electricity lines resolved through the province → grid chain), then:

- `run_tabular` from the Parquet files to a Parquet results file, cold (first call on
  the snapshot, lookups built) and warm (best of `--repeat`), and the same through the
  `factordb calc` command line;
- an independent float64 NumPy computation of every total (expected ≤ 1e-12 relative);
- the plain SciPy sparse product of the same demand matrix (the lower bound);
- Brightway (bw2calc + bw2data in `--bw-python`'s venv): one LCA with `lcia(demand=…)`
  per pack, and `FastScoresOnlyMultiLCA(direction="adjoint")` with PARDISO (its data
  objects built once), agreement expected ≤ 1e-6 (Brightway's float32 matrices);
- 10,000 Monte Carlo draws for one 100-line pack.

Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from calculator import montecarlo  # noqa: E402
from calculator.compute import compute  # noqa: E402
from calculator.resolve import FactorIndex  # noqa: E402
from calculator.rules import Issues  # noqa: E402
from calculator.schemas import parse_documents  # noqa: E402
from calculator.service import calculate, open_pinned, run_tabular  # noqa: E402
from calculator.tables import from_documents  # noqa: E402
from factordb.classification import shipped_geographies, shipped_nodes  # noqa: E402
from snapshots.fileformat import SCHEMA, manifest, tree_json, write_parquet  # noqa: E402
from snapshots.hashing import content_id  # noqa: E402

# Units a line may be written in, per base unit, and how many base units each is
# (stated here independently of the calculator's own table).
UNITS = {
    "kg": {"kg": 1.0, "g": 0.001, "t": 1000.0},
    "kWh": {"kWh": 1.0, "MWh": 1000.0},
    "MJ": {"MJ": 1.0, "GJ": 1000.0},
    "t*km": {"t*km": 1.0, "tkm": 1.0},
}
DIMENSION = {"kg": "mass", "kWh": "electricity", "MJ": "heat", "t*km": "transport"}
BASE_OF = {"mass": "kg", "electricity": "kWh", "heat": "MJ", "transport": "t*km"}
GRIDS = (
    "CN-NORTH",
    "CN-NORTHEAST",
    "CN-EAST",
    "CN-CENTRAL",
    "CN-NORTHWEST",
    "CN-SOUTH",
    "CN-SOUTHWEST",
)


def build_snapshot(path: Path, n_factors: int, rng: np.random.Generator) -> dict[str, Any]:
    """A snapshot of `n_factors` factors over the shipped leaf nodes, plus one grid factor
    per regional grid and one for CN (so regional-grid lines resolve unambiguously)."""
    import duckdb

    leaves = [
        n
        for n in shipped_nodes()
        if n.stage in ("materials", "manufacturing", "transport", "recycling")
        and not any(o.parent == n.code for o in shipped_nodes())
        and n.code not in ("energy.electricity.grid",)
        and BASE_OF.get(n.dimensions[0]) is not None
    ]
    node = rng.integers(0, len(leaves), n_factors)
    kinds = rng.choice(
        ["lognormal", "normal", "triangular", "uniform", ""],
        n_factors,
        p=[0.5, 0.2, 0.1, 0.1, 0.1],
    )
    value = rng.lognormal(0.5, 1.2, n_factors)
    scored = rng.random(n_factors) < 0.7
    dqr = rng.integers(1, 6, (4, n_factors))
    codes = [f"p{i % 10}:f{i:06d}" for i in range(n_factors)]
    classification = [leaves[k].code for k in node]
    unit = [BASE_OF[leaves[k].dimensions[0]] for k in node]
    geography = ["CN"] * n_factors
    grid_levels = ["CN", *GRIDS]
    for g, level in enumerate(grid_levels):
        codes.append(f"grid:g{g}")
        classification.append("energy.electricity.grid")
        unit.append("kWh")
        geography.append(level)
    extra = len(grid_levels)
    value = np.r_[value, rng.uniform(0.3, 0.9, extra)]
    kinds = np.r_[kinds, ["lognormal"] * extra]
    scored = np.r_[scored, np.ones(extra, bool)]
    dqr = np.c_[dqr, np.full((4, extra), 2)]
    total = n_factors + extra
    gsd = np.where(kinds == "lognormal", rng.uniform(1.05, 1.5, total), np.nan)
    sd = np.where(kinds == "normal", value * 0.1, np.nan)
    low = np.where(np.isin(kinds, ["triangular", "uniform"]), value * 0.8, np.nan)
    high = np.where(np.isin(kinds, ["triangular", "uniform"]), value * 1.25, np.nan)

    def ints(row: int) -> pa.Array:
        return pa.array(np.where(scored, dqr[row], 0), pa.int64(), mask=~scored)

    def floats(values: np.ndarray) -> pa.Array:
        return pa.array(values, pa.float64(), from_pandas=True)

    columns = {name: pa.nulls(total, SCHEMA.field(name).type) for name in SCHEMA.names}
    columns.update(
        factor=pa.array(codes),
        revision=pa.array([f"{c}@1" for c in codes]),
        provider=pa.array([c.split(":")[0] for c in codes]),
        code=pa.array([c.split(":")[1] for c in codes]),
        name=pa.array([f"benchmark factor {c}" for c in codes]),
        classification=pa.array(classification),
        geography=pa.array(geography),
        reference_year=pa.array(np.full(total, 2023), pa.int64()),
        value=floats(value),
        unit=pa.array(unit),
        dimension=pa.array([DIMENSION[u] for u in unit]),
        original_value=floats(value),
        original_unit=pa.array([f"kgCO2e/{u}" for u in unit]),
        gwp_basis=pa.array(["AR6"] * total),
        uncertainty=pa.array([k or None for k in kinds.tolist()], pa.string()),
        gsd=floats(gsd),
        sd=floats(sd),
        min=floats(low),
        max=floats(high),
        dqr_ter=ints(0),
        dqr_ger=ints(1),
        dqr_tir=ints(2),
        dqr_p=ints(3),
        source=pa.array(["benchmark"] * total),
    )
    table = pa.table(columns, schema=SCHEMA)
    nodes = [{**asdict(n), "dimensions": ";".join(n.dimensions)} for n in shipped_nodes()]
    tree = tree_json(nodes, [asdict(g) for g in shipped_geographies()])
    con = duckdb.connect()
    try:
        con.register("rows_in", table)
        snapshot_id, rows = content_id(con, "SELECT * FROM rows_in", tree)
        meta = manifest(
            snapshot_id=snapshot_id,
            sequence=1,
            label="benchmark",
            parent=None,
            published_at="2025-01-01T00:00:00Z",
            rows=rows,
            tree=tree,
        )
        write_parquet(con, "SELECT * FROM rows_in", path, meta)
    finally:
        con.close()
    order = np.argsort(np.array(codes))  # the file is sorted by factor ID
    return {
        "snapshot_id": snapshot_id,
        "codes": np.array(codes)[order],
        "value": value[order],
        "unit": np.array(unit)[order],
        "grid_rows": {
            level: int(np.flatnonzero(np.array(codes)[order] == f"grid:g{g}")[0])
            for g, level in enumerate(grid_levels)
        },
    }


def build_inputs(
    folder: Path, snapshot: dict[str, Any], n_packs: int, per_pack: int, rng: np.random.Generator
) -> dict[str, Any]:
    """Packs and lines Parquet files, and the float64 reference built alongside them."""
    n = n_packs * per_pack
    n_factors = len(snapshot["codes"]) - len(snapshot["grid_rows"])
    grid_row_set = set(snapshot["grid_rows"].values())
    plain_rows = np.array([r for r in range(len(snapshot["codes"])) if r not in grid_row_set])
    row = plain_rows[rng.integers(0, n_factors, n)]
    electric = rng.random(n) < 0.1
    provinces = [g for g in shipped_geographies() if g.kind == "province" and g.parent in GRIDS]
    province = rng.integers(0, len(provinces), n)
    row = np.where(
        electric,
        [snapshot["grid_rows"][provinces[p].parent] for p in province],
        row,
    )
    base = snapshot["unit"][row]
    unit = np.empty(n, dtype=object)
    to_base = np.empty(n)
    for b, choices in UNITS.items():
        where = np.flatnonzero(base == b)
        names = list(choices)
        pick = rng.integers(0, len(names), len(where))
        unit[where] = np.array(names, dtype=object)[pick]
        to_base[where] = np.array([choices[k] for k in names])[pick]
    quantity = rng.uniform(0.01, 200.0, n).round(4)
    stage_of = {
        "kg": "materials",
        "kWh": "manufacturing",
        "MJ": "manufacturing",
        "t*km": "transport",
    }
    stage = np.array([stage_of[b] for b in base], dtype=object)
    stage[(base == "kg") & (rng.random(n) < 0.1)] = "recycling"
    pack = np.repeat(np.arange(n_packs), per_pack)
    names = np.array([f"PK{p:05d}" for p in range(n_packs)], dtype=object)
    pq.write_table(
        pa.table(
            {
                "id": names,
                "rated_energy_kwh": rng.uniform(40, 110, n_packs).round(1),
                "cycle_life": rng.integers(1500, 4000, n_packs).astype(float),
                "depth_of_discharge": np.full(n_packs, 0.9),
            }
        ),
        folder / "packs.parquet",
    )
    factor = np.where(electric, None, snapshot["codes"][row].astype(object))
    pq.write_table(
        pa.table(
            {
                "pack": pa.array(names[pack], pa.string()),
                "stage": pa.array(stage, pa.string()),
                "factor": pa.array(factor, pa.string()),
                "geography": pa.array(
                    np.where(electric, [provinces[p].code for p in province], None), pa.string()
                ),
                "electricity_model": pa.array(
                    np.where(electric, "regional_grid", None), pa.string()
                ),
                "quantity": quantity,
                "unit": pa.array(unit, pa.string()),
            }
        ),
        folder / "lines.parquet",
    )
    base_quantity = quantity * to_base
    reference = np.bincount(pack, weights=base_quantity * snapshot["value"][row], minlength=n_packs)
    return {"pack": pack, "row": row, "base_quantity": base_quantity, "reference": reference}


def scipy_lower_bound(inputs: dict[str, Any], snapshot: dict[str, Any], n_packs: int) -> dict:
    from scipy import sparse

    started = time.perf_counter()
    demand = sparse.csr_matrix(
        (inputs["base_quantity"], (inputs["pack"], inputs["row"])),
        shape=(n_packs, len(snapshot["codes"])),
    )
    build = time.perf_counter() - started
    times = []
    for _ in range(5):
        started = time.perf_counter()
        totals = demand @ snapshot["value"]
        times.append(time.perf_counter() - started)
    return {"demand": demand, "totals": totals, "build_seconds": build, "seconds": min(times)}


def brightway(python: str, demand: Any, values: np.ndarray, folder: Path) -> dict[str, Any]:
    source, target = folder / "bw-in.npz", folder / "bw-out.npz"
    demand = demand.tocsr()
    demand.sum_duplicates()
    np.savez(source, values=values, indptr=demand.indptr, indices=demand.indices, data=demand.data)
    script = Path(__file__).with_name("calculator_brightway.py")
    done = subprocess.run(
        [python, str(script), str(source), str(target)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "BRIGHTWAY2_DIR": str(folder / "brightway"), "PYTHONWARNINGS": "ignore"},
    )
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr else "failed"}
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    scores = np.load(target)
    return {**figures, "plain_totals": scores["plain"], "fast_totals": scores["fast"]}


def relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


def timed_cli(folder: Path, snapshot_path: Path) -> float:
    factordb = Path(sys.executable).with_name("factordb")
    started = time.perf_counter()
    subprocess.run(
        [
            str(factordb),
            "calc",
            str(folder / "packs.parquet"),
            "--lines",
            str(folder / "lines.parquet"),
            "--out",
            str(folder / "cli-results.parquet"),
            "--snapshot",
            str(snapshot_path),
            "--json",
        ],
        check=True,
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packs", type=int, default=10_000)
    parser.add_argument("--lines", type=int, default=100)
    parser.add_argument("--factors", type=int, default=100_000)
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "factordb-bench-calc"
    )
    parser.add_argument("--bw-python", default="/tmp/bw-venv/bin/python")
    parser.add_argument("--no-brightway", action="store_true")
    args = parser.parse_args()
    folder = args.workdir
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20250601)

    started = time.perf_counter()
    snapshot = build_snapshot(folder / "snapshot.parquet", args.factors, rng)
    inputs = build_inputs(folder, snapshot, args.packs, args.lines, rng)
    generate = time.perf_counter() - started

    started = time.perf_counter()
    pinned = open_pinned(folder / "snapshot.parquet")
    open_seconds = time.perf_counter() - started

    results = folder / "results.parquet"
    started = time.perf_counter()
    summary = run_tabular(pinned, folder / "packs.parquet", folder / "lines.parquet", results)
    cold = time.perf_counter() - started
    warm_times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        run_tabular(pinned, folder / "packs.parquet", folder / "lines.parquet", results)
        warm_times.append(time.perf_counter() - started)
    warm = min(warm_times)
    totals = pq.read_table(results).column("total_kg_co2e").to_numpy()
    cli_seconds = timed_cli(folder, folder / "snapshot.parquet")

    lower = scipy_lower_bound(inputs, snapshot, args.packs)

    # Monte Carlo: the first pack's lines as a document, 10,000 draws.
    lines_table = pq.read_table(folder / "lines.parquet").slice(0, args.lines).to_pylist()
    document = {
        "pack": {"id": "MC", "rated_energy_kwh": 75.0, "cycle_life": 2000},
        "lines": [
            {
                "stage": r["stage"],
                "quantity": r["quantity"],
                "unit": r["unit"],
                "factor": r["factor"],
            }
            if r["factor"]
            else {
                "stage": r["stage"],
                "quantity": r["quantity"],
                "unit": r["unit"],
                "electricity": {"model": "regional_grid", "geography": r["geography"]},
            }
            for r in lines_table
        ],
    }
    mc_whole = []
    mc_only = []
    issues = Issues()
    packs, lines = from_documents(parse_documents(document), issues)
    computation = compute(FactorIndex(pinned), packs, lines, issues)
    for _ in range(args.repeat):
        started = time.perf_counter()
        calculate(pinned, document, draws=args.draws, seed=1)
        mc_whole.append(time.perf_counter() - started)
        started = time.perf_counter()
        montecarlo.intervals(computation, args.draws, 1)
        mc_only.append(time.perf_counter() - started)

    report: dict[str, Any] = {
        "packs": args.packs,
        "lines_per_pack": args.lines,
        "lines": summary["lines"],
        "factors": len(snapshot["codes"]),
        "generate_inputs_seconds": round(generate, 2),
        "snapshot_open_and_verify_seconds": round(open_seconds, 3),
        "tabular_cold_seconds": round(cold, 3),
        "tabular_warm_seconds": round(warm, 3),
        "tabular_warm_median_seconds": round(statistics.median(warm_times), 3),
        "tabular_packs_per_second": round(args.packs / warm),
        "cli_end_to_end_seconds": round(cli_seconds, 3),
        "numpy_float64_max_relative_difference": relative(totals, inputs["reference"]),
        "scipy_product_seconds": round(lower["seconds"], 4),
        "scipy_matrix_build_seconds": round(lower["build_seconds"], 3),
        "scipy_max_relative_difference": relative(totals, lower["totals"]),
        "montecarlo_draws": args.draws,
        "montecarlo_one_pack_seconds": round(min(mc_whole), 4),
        "montecarlo_intervals_only_seconds": round(min(mc_only), 4),
    }
    if not args.no_brightway:
        bw = brightway(args.bw_python, lower["demand"], snapshot["value"], folder)
        if "error" in bw:
            report["brightway"] = bw
        else:
            plain_totals, fast_totals = bw.pop("plain_totals"), bw.pop("fast_totals")
            bw["plain_max_relative_difference"] = relative(totals, plain_totals)
            bw["fastest_max_relative_difference"] = relative(totals, fast_totals)
            report["brightway"] = bw
            report["speedup_vs_brightway_fastest"] = round(bw["fastest_seconds"] / warm, 2)
            report["speedup_vs_brightway_fastest_with_setup"] = round(
                bw["fastest_with_setup_seconds"] / warm, 2
            )
            report["speedup_vs_brightway_plain"] = round(bw["plain_seconds"] / warm, 2)
    report["targets"] = {
        "packs_within_1s": warm <= 1.0,
        "montecarlo_within_0.1s": min(mc_whole) <= 0.1,
        "numpy_within_1e-12": report["numpy_float64_max_relative_difference"] <= 1e-12,
        "brightway_within_1e-6": report.get("brightway", {}).get(
            "fastest_max_relative_difference", 1.0
        )
        <= 1e-6,
        "3x_brightway_fastest": report.get("speedup_vs_brightway_fastest", 0) >= 3,
        "25x_brightway_plain": report.get("speedup_vs_brightway_plain", 0) >= 25,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
