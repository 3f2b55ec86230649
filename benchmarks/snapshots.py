"""Snapshots at scale: publish, export, verify and diff of 1,000,000 approved factors.

Creates a throwaway database (PostgreSQL by default, or SQLite with `--sqlite`), migrates
it and generates the registry inside the database (generate_series / a recursive CTE):
one provider, N factors each with one approved revision. Then, through the service
functions the CLI and API call:

- publish (N factors) and republish unchanged (`created: false`);
- the publish's parts measured apart: freeze + read the rows, canonical hash;
- export: warm (the Parquet cached at publish, copied out), cold (cache deleted:
  rebuilt from the registry, hash checked, written), and the write alone beside a
  plain DuckDB `COPY … TO 'x.parquet'` of the same Arrow rows (the export limit);
- verify (the file alone) and `open_snapshot` (the calculator's reader, verifying);
- 1 % of the factors get a new approved revision (a third ×1000, a third +10 %, a
  third AR5 → AR6), publish again, then the typed diff of the two snapshots beside a
  plain DuckDB full outer join of the two exports (the diff limit).

Prints one JSON document with the timings, the targets, the machine's load and the
process's peak RSS.

    python benchmarks/snapshots.py                        # 1,000,000 factors on PostgreSQL
    python benchmarks/snapshots.py --sqlite --factors 200000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

# Run as a script, this file's folder comes first on sys.path and its name would shadow
# the `snapshots` package: put the repository root first instead.
ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks")]

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
TARGETS = {"publish": 10.0, "export": 2.0, "verify": 2.0, "diff": 2.0, "export_vs_copy": 3.0}
NODES = (
    "material.cathode.ncm811",
    "material.cathode.lfp",
    "material.lithium.carbonate",
    "material.anode.graphite-synthetic",
    "material.foil.copper",
    "material.foil.aluminium",
    "material.electrolyte.lipf6",
    "recycling.hydrometallurgical",
)
GEOGRAPHIES = ("CN", "CN-EAST", "CN-JS", "GLO", "DE")


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _pick(options: tuple[str, ...], expr: str) -> str:
    cases = " ".join(f"WHEN {i} THEN '{o}'" for i, o in enumerate(options))
    return f"CASE ({expr}) % {len(options)} {cases} END"


def _seed_sql(dialect: str, n: int, *, change: bool) -> list[str]:
    """Statements generating the registry (or, with `change`, the 1 % new revisions)."""
    pg = dialect == "postgresql"
    series = "generate_series(1, {n}) AS s(g)" if pg else "series"
    with_series = (
        ""
        if pg
        else "WITH RECURSIVE series(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM series WHERE g < {n}) "
    )
    now = "now()" if pg else "CURRENT_TIMESTAMP"
    pad = (
        (lambda e, w: f"lpad(({e})::text, {w}, '0')")
        if pg
        else (lambda e, w: f"printf('%0{w}d', {e})")
    )
    big = "g::bigint" if pg else "g"
    value = f"((({big} * 2654435761) % 1000003) + 1) / 10000.0"
    code = f"'f' || {pad('g', 7)}"
    if not change:
        return [
            with_series.format(n=n)
            + "INSERT INTO factor (id, factor_id, organisation_id, code, latest_number, "
            "current_revision_id, created_at) "
            f"SELECT g, 'bench:' || {code}, 1, {code}, 1, g, {now} FROM {series.format(n=n)}",
            with_series.format(n=n)
            + "INSERT INTO factor_revision (id, revision_id, factor_pk, number, organisation_id, "
            "name, classification, geography, reference_year, technology, value, unit, "
            "dimension, original_value, original_unit, gwp_basis, co2_fossil, uncertainty, gsd, "
            "dqr_ter, dqr_ger, dqr_tir, dqr_p, valid_from, source, source_url, license, "
            "change_reason, content_hash, submitted_at, warnings, status, version) "
            f"SELECT g, 'bench:' || {code} || '@1', g, 1, 1, 'Benchmark factor ' || g, "
            f"{_pick(NODES, 'g')}, {_pick(GEOGRAPHIES, 'g / 7')}, 2015 + g % 10, "
            f"CASE WHEN g % 3 = 0 THEN NULL ELSE 'route-' || (g % 7) END, {value}, 'kg', "
            f"'mass', {value} * 1000, 'gCO2e/kg', "
            "CASE WHEN g % 300 = 207 THEN 'AR5' ELSE 'AR6' END, "
            f"{value} * 0.9, 'lognormal', "
            "1.1 + (g % 10) / 10.0, 1 + g % 5, 1 + g % 4, 1 + g % 3, 2, "
            + ("DATE '2024-01-01'" if pg else "'2024-01-01'")
            + ", 'Benchmark LCI ' || (g % 100), 'https://example.org/lci/' || g, 'CC-BY-4.0', "
            f"'new_data', {pad('g', 64)}, {now}, '[]', 'approved', 1 FROM {series.format(n=n)}",
        ]
    new_value = (
        f"CASE WHEN g % 300 = 7 THEN {value} * 1000 WHEN g % 300 = 107 THEN {value} * 1.1 "
        f"ELSE {value} * 0.97 END"
    )
    return [
        with_series.format(n=n)
        + "INSERT INTO factor_revision (id, revision_id, factor_pk, number, organisation_id, "
        "name, classification, geography, reference_year, technology, value, unit, dimension, "
        "original_value, original_unit, gwp_basis, source, change_reason, content_hash, "
        "submitted_at, warnings, status, version) "
        f"SELECT {n} + g, 'bench:' || {code} || '@2', g, 2, 1, 'Benchmark factor ' || g, "
        f"{_pick(NODES, 'g')}, {_pick(GEOGRAPHIES, 'g / 7')}, 2015 + g % 10, NULL, "
        f"{new_value}, 'kg', 'mass', {new_value}, 'kgCO2e/kg', "
        "'AR6', 'Benchmark LCI 2', "
        f"'correction', {pad(f'{n} + g', 64)}, {now}, '[]', 'approved', 1 "
        f"FROM {series.format(n=n)} WHERE g % 100 = 7",
        f"UPDATE factor SET current_revision_id = {n} + id, latest_number = 2 WHERE id % 100 = 7",
    ]


def _database(sqlite: bool, folder: Path) -> tuple[str, str | None]:
    if sqlite:
        return f"sqlite:///{folder / 'bench.sqlite3'}", None
    import psycopg

    name = f"fdb_bench_snapshots_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", name


def _drop(name: str | None) -> None:
    if name is None:
        return
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _seed(url: str, dialect: str, n: int, *, change: bool) -> None:
    from sqlalchemy import text

    from factordb.db import session_scope

    with session_scope(url) as s:
        if dialect == "postgresql":
            s.execute(text("SET LOCAL session_replication_role = replica"))
        for statement in _seed_sql(dialect, n, change=change):
            s.execute(text(statement))
        if dialect == "postgresql":
            for table in ("factor", "factor_revision"):
                s.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
            s.execute(text("ANALYZE factor"))
            s.execute(text("ANALYZE factor_revision"))


def run(n: int, sqlite: bool) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="factordb-bench-snapshots-"))
    os.environ["FACTORDB_SNAPSHOT_CACHE_DIR"] = str(folder / "cache")
    from factordb.settings import get_settings

    get_settings.cache_clear()
    import duckdb
    from sqlalchemy import text

    from factordb.db import dispose_engine, session_scope
    from factordb.migrate import upgrade
    from factordb.principals import SYSTEM, add_org
    from snapshots import exports, rows, service
    from snapshots.reader import open_snapshot, verify_file
    from snapshots.service import FREEZE, _freeze

    url, pg_name = _database(sqlite, folder)
    dialect = "sqlite" if sqlite else "postgresql"
    t: dict[str, Any] = {}
    peak: dict[str, float] = {}
    try:
        upgrade(url)
        with session_scope(url) as s:
            add_org(s, slug="bench", name="Bench", kind="provider")
        start = time.perf_counter()
        _seed(url, dialect, n, change=False)
        t["seed"] = time.perf_counter() - start
        peak["after_seed"] = _peak_mb()

        start = time.perf_counter()
        with session_scope(url) as s:
            first = service.publish(s, caller=SYSTEM, label="bench-1")
        t["publish"] = time.perf_counter() - start
        peak["after_publish"] = _peak_mb()

        with session_scope(url) as s:
            start = time.perf_counter()
            _freeze(s)
            table = rows.fetch(s, FREEZE)
            t["publish_part_freeze_and_read"] = time.perf_counter() - start
            tree = s.execute(
                text("SELECT tree FROM snapshot WHERE id = :i"), {"i": first["snapshot_id"]}
            ).scalar_one()
            snapshot = service.get_snapshot(s, first["snapshot_id"])
            s.expunge(snapshot)
            s.execute(text(f"DROP TABLE IF EXISTS {FREEZE}"))
        start = time.perf_counter()
        frozen = exports.SortedRows(table)
        frozen.sort()
        t["publish_part_sort"] = time.perf_counter() - start
        start = time.perf_counter()
        recomputed = frozen.content_id(tree)
        t["publish_part_hash"] = time.perf_counter() - start
        assert recomputed == first["snapshot_id"]

        start = time.perf_counter()
        with session_scope(url) as s:
            again = service.publish(s, caller=SYSTEM)
        t["publish_unchanged"] = time.perf_counter() - start
        assert again["created"] is False

        out = folder / "export.parquet"
        start = time.perf_counter()
        with session_scope(url) as s:
            service.export(s, first["snapshot_id"], out=out)
        t["export_warm"] = time.perf_counter() - start
        (folder / "cache" / f"{first['snapshot_id']}.parquet").unlink()
        start = time.perf_counter()
        with session_scope(url) as s:
            service.export(s, first["snapshot_id"], out=out)
        t["export_cold"] = time.perf_counter() - start
        peak["after_export"] = _peak_mb()

        start = time.perf_counter()
        frozen.write(snapshot)
        t["export_write_only"] = time.perf_counter() - start
        frozen.close()
        con = duckdb.connect()
        con.register("rows", table)
        start = time.perf_counter()
        con.execute(f"COPY (SELECT * FROM rows) TO '{folder / 'plain.parquet'}' (FORMAT parquet)")
        t["duckdb_copy_limit"] = time.perf_counter() - start
        con.close()
        del table

        start = time.perf_counter()
        verified = verify_file(out)
        t["verify"] = time.perf_counter() - start
        assert verified["ok"], verified
        start = time.perf_counter()
        pinned = open_snapshot(out)
        t["open_snapshot_verified"] = time.perf_counter() - start
        assert len(pinned.factors) == n
        del pinned
        peak["after_verify"] = _peak_mb()

        start = time.perf_counter()
        _seed(url, dialect, n, change=True)
        t["seed_changes"] = time.perf_counter() - start
        start = time.perf_counter()
        with session_scope(url) as s:
            second = service.publish(s, caller=SYSTEM, label="bench-2")
        t["publish_second"] = time.perf_counter() - start

        start = time.perf_counter()
        with session_scope(url) as s:
            diff = service.diff(s, "bench-1", "bench-2")
        t["diff"] = time.perf_counter() - start
        peak["after_diff"] = _peak_mb()
        cache = folder / "cache"
        a = cache / f"{first['snapshot_id']}.parquet"
        b = cache / f"{second['snapshot_id']}.parquet"
        con = duckdb.connect()
        start = time.perf_counter()
        joined = con.execute(
            f"SELECT count(*) FROM read_parquet('{a}') a FULL OUTER JOIN read_parquet('{b}') b "
            "ON a.factor = b.factor WHERE a.revision IS DISTINCT FROM b.revision"
        ).fetchone()[0]
        t["duckdb_join_limit"] = time.perf_counter() - start
        con.close()
        assert joined == len(diff["changes"])
    finally:
        dispose_engine(url)
        _drop(pg_name)
        shutil.rmtree(folder, ignore_errors=True)

    timings = {k: round(v, 3) for k, v in t.items()}
    return {
        "benchmark": "snapshots",
        "dialect": dialect,
        "factors": n,
        "changed_factors": len(diff["changes"]),
        "diff_summary": diff["summary"],
        "seconds": timings,
        "export_over_duckdb_copy": round(t["export_write_only"] / t["duckdb_copy_limit"], 2),
        "diff_over_duckdb_join": round(t["diff"] / t["duckdb_join_limit"], 2),
        "targets_seconds": TARGETS,
        "meets": {
            "publish": t["publish"] <= TARGETS["publish"],
            "export_warm": t["export_warm"] <= TARGETS["export"],
            "export_cold": t["export_cold"] <= TARGETS["export"],
            "export_within_3x_copy": t["export_write_only"]
            <= TARGETS["export_vs_copy"] * t["duckdb_copy_limit"],
            "verify": t["verify"] <= TARGETS["verify"],
            "diff": t["diff"] <= TARGETS["diff"],
        },
        "peak_rss_mb": peak,
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factors", type=int, default=1_000_000)
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    args = parser.parse_args()
    sys.stdout.write(json.dumps(run(args.factors, args.sqlite), indent=2) + "\n")


if __name__ == "__main__":
    main()
