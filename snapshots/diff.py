"""The typed diff between two snapshots, computed set-based in DuckDB over their exports.

Each factor whose frozen revision differs appears once, under its most telling type,
tested in this order:

- `added` / `removed`: in only one of the two snapshots;
- `suspected_unit_error`: the value moved by a ratio within ±0.2 decades of 10^±3 or
  10^±6 (same sign), the signature of g/kg/t or kWh/MWh/GWh mix-ups;
- `gwp_basis_change`: the GWP basis changed (AR5 → AR6…), whatever the value did;
- `value_change`: the value changed by more than `PRECISION`;
- `precision_change`: the value changed, but by at most `PRECISION` relatively (the two
  agree to about four significant digits);
- `metadata_change`: the value is identical; other fields (or only the revision) moved.

`fields` names the columns that differ (all but `factor`, `revision` and
`change_reason`); `change_reason` is the newer revision's; `ratio` is new/old and
`relative_change` (new − old)/old, null when either is missing or old is zero.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from snapshots.fileformat import COLUMN_NAMES, duckdb_connect

TYPES = (
    "added",
    "removed",
    "value_change",
    "metadata_change",
    "precision_change",
    "suspected_unit_error",
    "gwp_basis_change",
)
PRECISION = 5e-4
UNIT_DECADES = (3, 6)
UNIT_TOLERANCE = 0.2
COMPARED = tuple(
    name for name in COLUMN_NAMES if name not in ("factor", "revision", "change_reason")
)


def _type_sql() -> str:
    near = " OR ".join(
        f"abs(abs(log10(b.value / a.value)) - {k}) <= {UNIT_TOLERANCE}" for k in UNIT_DECADES
    )
    return f"""CASE
        WHEN a.factor IS NULL THEN 'added'
        WHEN b.factor IS NULL THEN 'removed'
        WHEN a.value <> b.value AND a.value * b.value > 0 AND ({near}) THEN 'suspected_unit_error'
        WHEN a.gwp_basis IS DISTINCT FROM b.gwp_basis THEN 'gwp_basis_change'
        WHEN a.value <> b.value
             AND abs(b.value - a.value) > {PRECISION} * greatest(abs(a.value), abs(b.value))
             THEN 'value_change'
        WHEN a.value <> b.value THEN 'precision_change'
        ELSE 'metadata_change' END"""


def _fields_sql() -> str:
    items = ", ".join(
        f'CASE WHEN a."{c}" IS DISTINCT FROM b."{c}" THEN \'{c}\' END' for c in COMPARED
    )
    return (
        "CASE WHEN a.factor IS NULL OR b.factor IS NULL THEN []::VARCHAR[] "
        f"ELSE list_filter([{items}], lambda x: x IS NOT NULL) END"
    )


def diff_files(old: Path, new: Path, *, old_id: str, new_id: str) -> dict[str, Any]:
    """The diff document between two export files (`schemas/snapshot-diff.json`)."""
    con = duckdb_connect()
    try:
        # Changed factors first, from two narrow columns; then the full rows of those only:
        # a join carrying all columns of a million rows costs three times as much.
        con.execute(
            """CREATE TEMP TABLE keys AS
            SELECT coalesce(a.factor, b.factor) AS factor
            FROM (SELECT factor, revision FROM read_parquet($old)) a
            FULL OUTER JOIN (SELECT factor, revision FROM read_parquet($new)) b
              ON a.factor = b.factor
            WHERE a.revision IS DISTINCT FROM b.revision""",
            {"old": str(old), "new": str(new)},
        )
        for side, path in (("old_rows", old), ("new_rows", new)):
            con.execute(
                f"CREATE TEMP TABLE {side} AS SELECT * FROM read_parquet($path) "
                "WHERE factor IN (SELECT factor FROM keys)",
                {"path": str(path)},
            )
        con.execute(
            f"""CREATE TEMP TABLE changes AS
            SELECT coalesce(b.factor, a.factor) AS factor,
                   {_type_sql()} AS type,
                   a.value AS old_value,
                   b.value AS new_value,
                   CASE WHEN a.value <> 0 THEN b.value / a.value END AS ratio,
                   CASE WHEN a.value <> 0 THEN (b.value - a.value) / a.value END
                       AS relative_change,
                   {_fields_sql()} AS fields,
                   b.change_reason AS change_reason,
                   a.revision AS old_revision,
                   b.revision AS new_revision,
                   coalesce(b.classification, a.classification) AS classification
            FROM old_rows a FULL OUTER JOIN new_rows b ON a.factor = b.factor"""
        )
        counts = dict(con.execute("SELECT type, count(*) FROM changes GROUP BY type").fetchall())
        branches: dict[str, dict[str, int]] = {}
        for branch, kind, count in con.execute(
            """SELECT array_to_string(string_split(classification, '.')[1:2], '.') AS branch,
                      type, count(*) FROM changes GROUP BY ALL ORDER BY branch, type"""
        ).fetchall():
            branches.setdefault(branch, {})[kind] = count
        result = con.execute(
            """SELECT factor, type, old_value, new_value, ratio, relative_change, fields,
                      change_reason, old_revision, new_revision, classification
               FROM changes ORDER BY factor"""
        )
        names = [d[0] for d in result.description]
        changes = [dict(zip(names, row, strict=True)) for row in result.fetchall()]
    finally:
        con.close()
    return {
        "from": old_id,
        "to": new_id,
        "summary": {kind: counts.get(kind, 0) for kind in TYPES},
        "by_branch": branches,
        "changes": changes,
    }


def diff(session: Session, a: str, b: str) -> dict[str, Any]:
    """The typed diff from snapshot `a` to snapshot `b` (each an ID, prefix or label)."""
    from snapshots.exports import export_file

    old, old_path = export_file(session, a)
    new, new_path = export_file(session, b)
    return diff_files(old_path, new_path, old_id=old.id, new_id=new.id)
