"""The calculator's public operations, on a pinned snapshot (never a live registry).

`calculate` takes activity documents and returns the Calculator output document;
`run_tabular` takes a packs table and a lines table (CSV or Parquet) and writes result
tables. Both go through the same columnar checks and sums, so a pack gets the same
number either way.
"""

from __future__ import annotations

import time
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from calculator.compute import Computation
    from calculator.resolve import FactorIndex
    from snapshots.reader import PinnedSnapshot

_INDEXES: weakref.WeakKeyDictionary[Any, FactorIndex] = weakref.WeakKeyDictionary()


def open_pinned(path: str | Path, *, verify: bool = True) -> PinnedSnapshot:
    """Load a snapshot export file; its content must hash to its ID (`SnapshotMismatch`)."""
    from snapshots.reader import open_snapshot

    return open_snapshot(path, verify=verify)


def factor_index(snapshot: Any) -> FactorIndex:
    """The lookups over a snapshot, built once per snapshot object."""
    from calculator.resolve import FactorIndex

    try:
        return _INDEXES[snapshot]
    except KeyError:
        index = FactorIndex(snapshot)
    _INDEXES[snapshot] = index
    return index


def calculate(
    snapshot: PinnedSnapshot, document: Any, *, draws: int | None = None, seed: int | None = None
) -> dict[str, Any]:
    """Footprints of one pack document or `{"packs": [...]}` (parsed JSON/YAML).

    Returns the Calculator output document (schemas/calc-output.json); with `draws`, each
    pack carries its Monte Carlo interval (seed default 0). Raises `ValidationFailed`
    listing every broken rule with its pack and line; nothing is computed then.
    """
    from calculator import montecarlo, report
    from calculator.compute import compute
    from calculator.rules import Issues
    from calculator.schemas import parse_documents
    from calculator.tables import from_documents

    run = montecarlo.check_draws(draws, seed)
    documents = parse_documents(document)
    issues = Issues()
    packs, lines = from_documents(documents, issues)
    computation = compute(factor_index(snapshot), packs, lines, issues)
    uncertainty = montecarlo.intervals(computation, *run) if run else None
    return report.document(computation, uncertainty, *(run or (None, None)))


def compute_tables(snapshot: PinnedSnapshot, packs_path: Path, lines_path: Path) -> Computation:
    """The computation of a packs table and a lines table (CSV or Parquet)."""
    from calculator.compute import compute
    from calculator.rules import Issues
    from calculator.tables import line_table, pack_table, read_table

    issues = Issues()
    packs = pack_table(read_table(Path(packs_path), "packs"), issues)
    lines = line_table(read_table(Path(lines_path), "lines"), packs, issues)
    return compute(factor_index(snapshot), packs, lines, issues)


def run_tabular(
    snapshot: PinnedSnapshot,
    packs_path: Path,
    lines_path: Path,
    out: Path | None = None,
    lines_out: Path | None = None,
    draws: int | None = None,
    seed: int | None = None,
) -> dict[str, Any]:
    """Compute every pack of a packs table and its lines; write the result tables.

    `out` gets one row per pack, `lines_out` one row per line part (CSV or Parquet by
    suffix). Returns the summary document (schemas/calc-summary.json), including the
    citations (every revision used) for a later citation manifest.
    """
    from calculator import montecarlo, report

    started = time.perf_counter()
    run = montecarlo.check_draws(draws, seed)
    computation = compute_tables(snapshot, packs_path, lines_path)
    uncertainty = montecarlo.intervals(computation, *run) if run else None
    if out is not None:
        report.write_table(report.pack_table(computation, uncertainty), Path(out))
    if lines_out is not None:
        report.write_table(report.line_table(computation), Path(lines_out))
    return {
        **report.provenance(computation),
        "packs": len(computation.packs),
        "lines": len(computation.lines),
        "parts": len(computation.part_line),
        "total_kg_co2e": float(computation.total.sum()),
        "draws": run[0] if run else None,
        "seed": run[1] if run else None,
        "out": str(out) if out is not None else None,
        "lines_out": str(lines_out) if lines_out is not None else None,
        "citations": report.citations(computation),
        "seconds": round(time.perf_counter() - started, 6),
    }
