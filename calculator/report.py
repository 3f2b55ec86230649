"""The calculator's outputs: the JSON document and the per-pack and per-line tables."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from calculator.compute import PART_NAMES, Computation
from calculator.rules import STAGES
from factordb import __version__

TOP_CONTRIBUTORS = 5


def _float(value: float) -> float | None:
    return None if value != value else float(value)


def _ratio(numerator: float, denominator: float) -> float | None:
    return float(numerator / denominator) if denominator else None


def provenance(computation: Computation) -> dict[str, Any]:
    """What every result carries: the snapshot, the factordb version, a UTC time."""
    snapshot = computation.index.snapshot
    return {
        "snapshot_id": computation.index.snapshot_id,
        "snapshot_label": getattr(snapshot, "label", None),
        "factordb_version": __version__,
        "computed_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
    }


def citations(computation: Computation) -> list[str]:
    """Every factor revision used, sorted."""
    import pyarrow.compute as pc

    used = np.flatnonzero(np.bincount(computation.part_row, minlength=len(computation.index)))
    revisions = pa.array(computation.index.frame["revision"], pa.string()).take(pa.array(used))
    return revisions.take(pc.array_sort_indices(revisions)).to_pylist()


def document(
    computation: Computation, uncertainty: np.ndarray | None, draws: int | None, seed: int | None
) -> dict[str, Any]:
    """The Calculator output document (schemas/calc-output.json)."""
    comp = computation
    index = comp.index
    revision = index.column("revision")
    factor = index.column("factor")
    geography = index.column("geography")
    classification = index.column("classification")
    base_codes, base_units = index.base_units
    lines = comp.lines
    order = comp.display_order()
    part_pack = comp.part_pack[order]
    starts = np.searchsorted(part_pack, np.arange(len(comp.packs) + 1))
    line_of = comp.part_line[order].tolist()
    kind = comp.part_kind[order].tolist()
    row = comp.part_row[order].tolist()
    quantity = comp.part_quantity[order].tolist()
    base = comp.part_base[order].tolist()
    kg = comp.part_kg[order].tolist()
    pair_pack, pair_row, _, pair_kg = comp.pairs
    pair_starts = np.searchsorted(pair_pack, np.arange(len(comp.packs) + 1))
    dqr = index.dqr
    packs = []
    for p, name in enumerate(comp.packs.ids):
        rendered = []
        for j in range(starts[p], starts[p + 1]):
            line, r, part = line_of[j], row[j], PART_NAMES[kind[j]]
            rendered.append(
                {
                    "index": int(lines.index[line]),
                    "stage": lines.stage.value(line),
                    "factor": factor[r],
                    "revision": revision[r],
                    "classification": classification[r],
                    "geography": geography[r],
                    "electricity_model": lines.model.value(line),
                    "part": part,
                    "quantity": quantity[j],
                    "unit": "kWh" if part else lines.unit.value(line),
                    "quantity_base": base[j],
                    "base_unit": base_units[base_codes[r]],
                    "kg_co2e": kg[j],
                }
            )
        used = pair_row[pair_starts[p] : pair_starts[p + 1]]
        used_kg = pair_kg[pair_starts[p] : pair_starts[p + 1]]
        total = float(comp.total[p])
        stages = dict(zip(STAGES, comp.stages[p].tolist(), strict=True))
        top = np.argsort(-np.abs(used_kg), kind="stable")[:TOP_CONTRIBUTORS]
        packs.append(
            {
                "pack": name,
                "rated_energy_kwh": float(comp.packs.numbers["rated_energy_kwh"][p]),
                "lifetime_energy_kwh": float(comp.lifetime[p]),
                "method": comp.methods[p],
                "total_kg_co2e": total,
                "kg_co2e_per_kwh_rated": float(total / comp.packs.numbers["rated_energy_kwh"][p]),
                "kg_co2e_per_kwh_delivered": float(total / comp.lifetime[p]),
                "stages": stages,
                "shares": {s: _ratio(v, total) for s, v in stages.items()},
                "top_contributors": [
                    {
                        "revision": revision[used[t]],
                        "kg_co2e": float(used_kg[t]),
                        "share": _ratio(used_kg[t], total),
                    }
                    for t in top.tolist()
                ],
                "lines": rendered,
                "dqr": _float(comp.dqr[p]),
                "unscored": sorted(str(revision[r]) for r in used.tolist() if dqr[r] != dqr[r]),
                "uncertainty": _interval(uncertainty, p, draws, seed),
                "citations": sorted(str(revision[r]) for r in used.tolist()),
            }
        )
    return {**provenance(comp), "packs": packs}


def _interval(
    uncertainty: np.ndarray | None, p: int, draws: int | None, seed: int | None
) -> dict[str, Any] | None:
    if uncertainty is None:
        return None
    low, mid, high = uncertainty[p].tolist()
    return {"p2_5": low, "p50": mid, "p97_5": high, "draws": draws, "seed": seed}


def pack_table(computation: Computation, uncertainty: np.ndarray | None) -> pa.Table:
    """One row per pack: totals, stages, intensities, lifetime energy, DQR, percentiles."""
    comp = computation
    rated = comp.packs.numbers["rated_energy_kwh"]
    columns: dict[str, Any] = {
        "pack": pa.array(comp.packs.ids, pa.string()),
        "total_kg_co2e": comp.total,
    }
    for i, stage in enumerate(STAGES):
        columns[stage] = comp.stages[:, i]
    columns["kg_co2e_per_kwh_rated"] = comp.total / rated
    columns["kg_co2e_per_kwh_delivered"] = comp.total / comp.lifetime
    columns["lifetime_energy_kwh"] = comp.lifetime
    columns["method"] = pa.array(comp.methods, pa.string())
    columns["dqr"] = pa.array(comp.dqr, pa.float64(), from_pandas=True)
    if uncertainty is not None:
        for i, name in enumerate(("p2_5", "p50", "p97_5")):
            columns[name] = uncertainty[:, i]
    return pa.table(columns)


def line_table(computation: Computation) -> pa.Table:
    """One row per part, ordered by pack, line index and part."""
    comp = computation
    index = comp.index
    order = comp.display_order()
    rows = pa.array(comp.part_row[order])
    line = comp.part_line[order]
    lines = comp.lines
    snapshot = {
        name: pa.array(index.column(name), pa.string())
        for name in ("factor", "revision", "geography")
    }
    base_codes, base_units = index.base_units
    units = np.array([*lines.unit.values, "kWh"], dtype=object)
    kind = comp.part_kind[order]
    unit_codes = np.where(kind > 0, len(lines.unit.values), lines.unit.codes[line])
    return pa.table(
        {
            "pack": pa.array(np.array(comp.packs.ids, dtype=object)[lines.pack[line]], pa.string()),
            "index": lines.index[line],
            "part": pa.array(np.array(PART_NAMES, dtype=object)[kind], pa.string()),
            "stage": pa.array(
                np.array(lines.stage.values, dtype=object)[lines.stage.codes[line]], pa.string()
            ),
            "factor": snapshot["factor"].take(rows),
            "revision": snapshot["revision"].take(rows),
            "geography": snapshot["geography"].take(rows),
            "quantity": comp.part_quantity[order],
            "unit": pa.array(units[unit_codes], pa.string()),
            "quantity_base": comp.part_base[order],
            "base_unit": pa.array(
                np.array(base_units, dtype=object)[base_codes[comp.part_row[order]]], pa.string()
            ),
            "kg_co2e": comp.part_kg[order],
        }
    )


def write_table(table: pa.Table, path: Path) -> None:
    """Write CSV or Parquet by suffix, through a temporary sibling (never half a file)."""
    from factordb.errors import ValidationFailed

    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise ValidationFailed(f"{path}: results are written as .csv or .parquet")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    if suffix == ".csv":
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, tmp)
    else:
        import pyarrow.parquet as pq

        pq.write_table(table, tmp)
    tmp.replace(path)
