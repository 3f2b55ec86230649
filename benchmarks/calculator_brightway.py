"""Brightway's side of `benchmarks/calculator.py`; runs in its own venv, imports no factordb.

    /tmp/bw-venv/bin/python benchmarks/calculator_brightway.py INPUT.npz OUTPUT.npz

INPUT holds `values` (kg CO2e per base unit of each factor) and the packs' demands as a
CSR matrix (`indptr`, `indices`, `data`: base quantity of each factor per pack). The
factors become a bw2data database of one activity per factor (producing one unit,
emitting `value` kg of one CO2e flow) and a method characterising that flow by 1; the
project is reused while its fingerprint matches. Two routes are timed:

- plain: one `LCA`, then `lcia(demand=…)` per pack;
- fastest: `FastScoresOnlyMultiLCA(direction="adjoint")` with PARDISO, over all packs,
  its data objects built once.

Prints one JSON document (seconds per route and setup); writes each route's scores.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

PROJECT = "factordb-calculator-benchmark"
METHOD = ("factordb-benchmark", "gwp100")


def main() -> None:
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    home = Path(os.environ.setdefault("BRIGHTWAY2_DIR", "/tmp/factordb-bw-dir"))
    home.mkdir(parents=True, exist_ok=True)
    warnings.simplefilter("ignore")
    import bw2calc as bc
    import bw2data as bd

    data = np.load(source)
    values = data["values"]
    indptr, indices, amounts = data["indptr"], data["indices"], data["data"]
    started = time.perf_counter()
    ids = build_project(bd, values)
    setup = time.perf_counter() - started
    demands = {
        str(p): {int(ids[j]): float(q) for j, q in zip(indices[a:b], amounts[a:b], strict=True)}
        for p, (a, b) in enumerate(itertools.pairwise(indptr))
    }
    first = next(iter(demands.values()))

    started = time.perf_counter()
    _, data_objs, _ = bd.prepare_lca_inputs(demand=first, method=METHOD, remapping=False)
    prepare = time.perf_counter() - started

    started = time.perf_counter()
    lca = bc.LCA(first, method=METHOD, data_objs=data_objs)
    lca.lci()
    lca.lcia()
    plain_setup = time.perf_counter() - started
    started = time.perf_counter()
    plain = np.empty(len(demands))
    for p, demand in enumerate(demands.values()):
        lca.lcia(demand=demand)
        plain[p] = lca.score
    plain_seconds = time.perf_counter() - started

    started = time.perf_counter()
    multi = bc.FastScoresOnlyMultiLCA(
        demands=demands,
        method_config={"impact_categories": [METHOD]},
        data_objs=data_objs,
        direction="adjoint",
    )
    fast_setup = time.perf_counter() - started
    started = time.perf_counter()
    scores = multi.calculate()
    fast = np.asarray(scores.values[0], dtype=np.float64)
    fast_seconds = time.perf_counter() - started
    np.savez(target, plain=plain, fast=fast)
    print(
        json.dumps(
            {
                "bw2calc": bc.__version__,
                "bw2data": ".".join(map(str, bd.__version__))
                if isinstance(bd.__version__, tuple)
                else str(bd.__version__),
                "pardiso": bool(bc.PYPARDISO),
                "project_setup_seconds": round(setup, 3),
                "prepare_inputs_seconds": round(prepare, 3),
                "plain_setup_seconds": round(plain_setup, 3),
                "plain_seconds": round(plain_seconds, 4),
                "fastest_setup_seconds": round(fast_setup, 3),
                "fastest_seconds": round(fast_seconds, 4),
                "fastest_with_setup_seconds": round(fast_setup + fast_seconds, 4),
            }
        )
    )


def build_project(bd, values: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The database of one activity per factor; rebuilt only when the values change."""
    fingerprint = hashlib.sha256(values.tobytes()).hexdigest()
    bd.projects.set_current(PROJECT)
    if bd.databases.get("factors", {}).get("fingerprint") != fingerprint:
        for name in ("factors", "flows"):
            if name in bd.databases:
                del bd.databases[name]
        bd.Database("flows").write(
            {("flows", "co2e"): {"name": "CO2e", "unit": "kilogram", "type": "emission"}}
        )
        bd.Database("factors").write(
            {
                ("factors", f"f{i}"): {
                    "name": f"factor {i}",
                    "unit": "unit",
                    "exchanges": [
                        {"input": ("factors", f"f{i}"), "amount": 1.0, "type": "production"},
                        {"input": ("flows", "co2e"), "amount": float(v), "type": "biosphere"},
                    ],
                }
                for i, v in enumerate(values.tolist())
            }
        )
        method = bd.Method(METHOD)
        method.register()
        method.write([(("flows", "co2e"), 1.0)])
        bd.databases["factors"]["fingerprint"] = fingerprint
        bd.databases.flush()
    rows = bd.backends.ActivityDataset.select(
        bd.backends.ActivityDataset.id, bd.backends.ActivityDataset.code
    ).where(bd.backends.ActivityDataset.database == "factors")
    ids = np.zeros(len(values), dtype=np.int64)
    for row in rows:
        ids[int(row.code[1:])] = row.id
    return ids


if __name__ == "__main__":
    main()
