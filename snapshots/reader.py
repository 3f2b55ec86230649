"""Open a pinned snapshot export and answer lookups, without the registry database.

This is what the calculator embeds: it imports pyarrow, pandas and DuckDB, never
SQLAlchemy, FastAPI, Alembic, psycopg or Great Expectations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from factordb.errors import NotFound
from snapshots.fileformat import (
    CLASSIFICATION_KEYS,
    COLUMN_NAMES,
    GEOGRAPHY_KEYS,
    META_ID,
    META_LABEL,
    META_PARENT,
    META_PUBLISHED_AT,
    META_ROWS,
    META_SEQUENCE,
    META_TREE,
    SnapshotMismatch,
    parse_tree,
    read_manifest,
)
from snapshots.hashing import table_content_id
from snapshots.verify import check_columns, verify_file

__all__ = ["PinnedSnapshot", "SnapshotMismatch", "open_snapshot", "verify_file"]


@dataclass(frozen=True, eq=False)
class PinnedSnapshot:
    """A snapshot loaded from its export file; `factors` rows are sorted by `factor`."""

    snapshot_id: str
    sequence: int | None
    label: str | None
    parent: str | None
    published_at: str | None
    factors: pd.DataFrame
    classification: pd.DataFrame
    geographies: pd.DataFrame
    geography_parents: dict[str, str | None]
    geography_kinds: dict[str, str]
    verified: bool
    path: Path
    _positions: pd.Index = field(repr=False)

    def factor(self, factor_id: str) -> dict[str, Any]:
        """One factor's row as a dict (nulls as None); NotFound when the snapshot lacks it."""
        try:
            position = self._positions.get_loc(factor_id)
        except KeyError:
            raise NotFound(
                f"factor {factor_id!r} is not in snapshot {self.snapshot_id[:12]}"
            ) from None
        row = self.factors.iloc[position]
        return {name: _plain(row[name]) for name in COLUMN_NAMES}

    def candidates(
        self, classification: str, geography: str, *, provider: str | None = None
    ) -> pd.DataFrame:
        """Factors of exactly that node at exactly that geography (optionally one provider)."""
        frame = self.factors
        mask = (frame["classification"] == classification) & (frame["geography"] == geography)
        if provider is not None:
            mask &= frame["provider"] == provider
        return frame[mask]

    def geography_chain(self, geography: str) -> list[str]:
        """`geography` then each parent in turn up to the root (province → grid → CN → GLO)."""
        if geography not in self.geography_parents:
            raise NotFound(f"geography {geography!r} is not in snapshot {self.snapshot_id[:12]}")
        chain = [geography]
        while (parent := self.geography_parents[chain[-1]]) is not None:
            chain.append(parent)
        return chain


def open_snapshot(path: str | Path, *, verify: bool = True) -> PinnedSnapshot:
    """Load an export; with `verify`, recompute its ID and raise `SnapshotMismatch` if it differs.

    A CSV export or any non-factordb file is refused with `ValidationFailed`.
    """
    import pyarrow.parquet as pq

    path = Path(path)
    meta = read_manifest(path)
    table = pq.read_table(path)
    check_columns(path, table)
    tree_text = meta[META_TREE]
    if verify:
        computed, rows = table_content_id(table, tree_text)
        _raise_on_mismatch(path, meta, computed, rows)
    tree = parse_tree(tree_text)
    factors = table.select(list(COLUMN_NAMES)).to_pandas(types_mapper=_nullable_ints)
    classification = pd.DataFrame(tree["classification"], columns=list(CLASSIFICATION_KEYS))
    geographies = pd.DataFrame(tree["geographies"], columns=list(GEOGRAPHY_KEYS))
    return PinnedSnapshot(
        snapshot_id=meta[META_ID],
        sequence=int(meta[META_SEQUENCE]) if meta.get(META_SEQUENCE) else None,
        label=meta.get(META_LABEL) or None,
        parent=meta.get(META_PARENT) or None,
        published_at=meta.get(META_PUBLISHED_AT) or None,
        factors=factors,
        classification=classification,
        geographies=geographies,
        geography_parents={g["code"]: g["parent"] for g in tree["geographies"]},
        geography_kinds={g["code"]: g["kind"] for g in tree["geographies"]},
        verified=verify,
        path=path,
        _positions=pd.Index(factors["factor"]),
    )


def _raise_on_mismatch(path: Path, meta: dict[str, str], computed: str, rows: int) -> None:
    claimed = meta[META_ID]
    if computed != claimed:
        raise SnapshotMismatch(
            f"{path} does not match its snapshot ID: claims {claimed}, content hashes to {computed}"
        )
    if str(rows) != meta[META_ROWS]:
        raise SnapshotMismatch(
            f"{path} holds {rows} factor rows but its manifest says {meta[META_ROWS]}"
        )


def _nullable_ints(kind: pa.DataType) -> Any:
    return pd.Int64Dtype() if pa.types.is_integer(kind) else None


def _plain(value: Any) -> Any:
    if value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value
