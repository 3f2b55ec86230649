"""Provider CSV ingest at scale, against raw `COPY` on the same PostgreSQL.

Generates a valid provider CSV of N rows (default 1,000,000; realistic columns: battery
material, energy and transport nodes, mixed units, gas breakdowns that add up, DQR,
lognormal uncertainty) and times, each in its own process so peak memory is its own:

- the whole `factordb ingest` path (`ingest.service.ingest_file`) on a fresh SQLite file
  and on a fresh PostgreSQL database;
- baseline (a): `COPY` of the file into an unconstrained table (text columns);
- baseline (b): `COPY` of the same rows, as the registry stores them, into `factor` and
  `factor_revision` of a freshly migrated database: the same keys, indexes, foreign
  keys and triggers as the registry's.

Prints one JSON document with rows/s, seconds, peak RSS and the ratios ingest/(a) and
ingest/(b). Targets: PostgreSQL ingest within 1.5× of (b); peak memory under 1 GB.

    python benchmarks/ingest.py --rows 1000000

Needs a PostgreSQL at FACTORDB_TEST_PG (default postgresql://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_ADMIN = os.environ.get("FACTORDB_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
COLUMNS = [
    "factor_code",
    "name",
    "classification",
    "value",
    "unit",
    "geography",
    "reference_year",
    "source",
    "technology",
    "gwp_basis",
    "valid_from",
    "valid_to",
    "source_url",
    "license",
    "uncertainty",
    "gsd",
    "dqr_ter",
    "dqr_ger",
    "dqr_tir",
    "dqr_p",
    "co2_fossil",
    "ch4_fossil",
    "n2o",
]
# node, unit, typical value in that unit
KINDS = [
    ("material.cathode.ncm811", "kgCO2e/kg", 25.0),
    ("material.cathode.lfp", "kgCO2e/kg", 9.0),
    ("material.lithium.carbonate", "tCO2e/t", 7.0),
    ("material.foil.copper", "kgCO2e/kg", 6.5),
    ("material.anode.graphite-synthetic", "kgCO2e/kg", 5.5),
    ("energy.electricity.grid", "kgCO2e/kWh", 0.58),
    ("energy.electricity.grid", "tCO2e/MWh", 0.58),
    ("energy.natural-gas", "kgCO2e/MJ", 0.066),
    ("transport.road.truck-diesel", "gCO2e/t*km", 85.0),
    ("transport.sea", "kgCO2e/t*km", 0.011),
]
GEOGRAPHIES = ["CN", "CN-EAST", "CN-JS", "CN-GD", "CN-SC", "GLO", "DE", "US", "JP", "KR"]


def generate(path: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        for i in range(rows):
            node, unit, typical = KINDS[i % len(KINDS)]
            value = round(typical * rng.uniform(0.6, 1.4), 5)
            ch4 = round(value * 0.002, 8)
            n2o = round(value * 0.0001, 9)
            co2 = round(value - ch4 * 29.8 - n2o * 273, 6)
            per_base = 0.001 if unit.startswith("g") else 1.0  # gases are kg per base unit
            writer.writerow(
                [
                    f"bench-{i:08d}",
                    f"Synthetic factor {i}, {node.rsplit('.', 1)[-1]}",
                    node,
                    value,
                    unit,
                    GEOGRAPHIES[rng.randrange(len(GEOGRAPHIES))],
                    rng.choice((2021, 2022, 2023)),
                    "Synthetic benchmark dataset 2024",
                    "hydrometallurgical" if i % 3 == 0 else "",
                    "AR6",
                    "2024-01-01",
                    "2026-12-31",
                    "https://example.org/bench",
                    "CC-BY-4.0",
                    "lognormal",
                    round(rng.uniform(1.05, 1.5), 3),
                    rng.randint(1, 3),
                    rng.randint(1, 3),
                    rng.randint(1, 3),
                    rng.randint(1, 3),
                    round(co2 * per_base, 9),
                    round(ch4 * per_base, 11),
                    round(n2o * per_base, 12),
                ]
            )


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _pg(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def create_pg_database() -> tuple[str, str]:
    import psycopg

    name = f"fdb_bench_ingest_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, _pg(PG_ADMIN.rsplit("/", 1)[0] + "/" + name)


def drop_pg_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def worker_ingest(url: str, file: Path, chunk_rows: int | None) -> dict[str, Any]:
    """One full ingest (migrated database, one provider) in this process."""
    from factordb.db import session_scope
    from factordb.migrate import upgrade
    from factordb.principals import add_org
    from ingest.service import ingest_file, operator_caller

    upgrade(url)
    with session_scope(url) as s:
        add_org(s, slug="bench", name="Benchmark provider", kind="provider")
    import great_expectations  # noqa: F401  (imported by the CLI anyway; not an ingest cost)

    started = time.perf_counter()
    with session_scope(url) as s:
        report = ingest_file(
            s, path=file, caller=operator_caller(s, org="bench"), chunk_rows=chunk_rows
        )
    seconds = time.perf_counter() - started
    return {
        "status": report["status"],
        "errors": report["errors_total"],
        "warnings": report["warnings_total"],
        "new_revisions": report["new_revisions"],
        "seconds": round(seconds, 2),
        "rows_per_s": round(report["rows"] / seconds),
        "peak_rss_mb": peak_rss_mb(),
    }


def worker_baselines(file: Path) -> dict[str, Any]:
    """(a) COPY into an unconstrained text table; (b) COPY into the migrated registry tables."""
    import psycopg

    from factordb.migrate import upgrade

    name, url = create_pg_database()
    try:
        with psycopg.connect(PG_ADMIN.rsplit("/", 1)[0] + "/" + name) as conn:
            conn.execute(f"CREATE TABLE raw_rows ({', '.join(f'{c} text' for c in COLUMNS)})")
            conn.commit()
            started = time.perf_counter()
            with (
                conn.cursor() as cur,
                file.open("rb") as handle,
                cur.copy("COPY raw_rows FROM STDIN (FORMAT csv, HEADER true)") as copy,
            ):
                while block := handle.read(1 << 20):
                    copy.write(block)
            conn.commit()
            unconstrained = time.perf_counter() - started
        upgrade(url)
        factors, revisions = _registry_rows(file)
        with psycopg.connect(PG_ADMIN.rsplit("/", 1)[0] + "/" + name) as conn:
            conn.execute(
                "INSERT INTO organisation (id, slug, name, kind, created_at) "
                "VALUES (1, 'bench', 'Benchmark', 'provider', now())"
            )
            conn.execute(
                "INSERT INTO ingest_batch (id, organisation_id, filename, file_sha256, "
                "source_format, rows, status, report, created_at) VALUES "
                "('b-bench', 1, 'bench.csv', repeat('0', 64), 'csv', 0, 'accepted', '{}', now())"
            )
            conn.commit()
            started = time.perf_counter()
            with conn.cursor() as cur:
                with cur.copy(f"COPY factor ({FACTOR_COLUMNS}) FROM STDIN (FORMAT csv)") as copy:
                    copy.write(factors)
                with cur.copy(
                    f"COPY factor_revision ({REVISION_COLUMNS}) FROM STDIN (FORMAT csv)"
                ) as copy:
                    copy.write(revisions)
            conn.commit()
            constrained = time.perf_counter() - started
    finally:
        from factordb.db import dispose_engine

        dispose_engine(url)
        drop_pg_database(name)
    return {
        "copy_unconstrained_s": round(unconstrained, 2),
        "copy_constrained_s": round(constrained, 2),
    }


FACTOR_COLUMNS = "id, factor_id, organisation_id, code, latest_number, created_at"
REVISION_FIELDS = [
    "id",
    "revision_id",
    "factor_pk",
    "number",
    "organisation_id",
    "name",
    "classification",
    "geography",
    "reference_year",
    "technology",
    "value",
    "unit",
    "dimension",
    "original_value",
    "original_unit",
    "gwp_basis",
    "co2_fossil",
    "ch4_fossil",
    "n2o",
    "uncertainty",
    "gsd",
    "dqr_ter",
    "dqr_ger",
    "dqr_tir",
    "dqr_p",
    "valid_from",
    "valid_to",
    "source",
    "source_url",
    "license",
    "change_reason",
    "content_hash",
    "batch_id",
    "row_number",
    "submitted_at",
    "warnings",
    "status",
    "version",
]
REVISION_COLUMNS = ", ".join(REVISION_FIELDS)


def _registry_rows(file: Path) -> tuple[bytes, bytes]:
    """The file's rows as the registry stores them (normalised values, provenance)."""
    from factordb.units import normalise_value, parse_factor_unit

    factors, revisions = io.StringIO(), io.StringIO()
    fw, rw = csv.writer(factors), csv.writer(revisions)
    with file.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        for i, r in enumerate(reader, start=1):
            unit = parse_factor_unit(r["unit"], None)
            fid = f"bench:{r['factor_code']}"
            fw.writerow([i, fid, 1, r["factor_code"], 1, "2024-01-01T00:00:00Z"])
            rw.writerow(
                [
                    i,
                    fid + "@1",
                    i,
                    1,
                    1,
                    r["name"],
                    r["classification"],
                    r["geography"],
                    r["reference_year"],
                    r["technology"] or None,
                    normalise_value(float(r["value"]), unit),
                    unit.base_unit,
                    unit.dimension,
                    r["value"],
                    r["unit"],
                    r["gwp_basis"],
                    r["co2_fossil"],
                    r["ch4_fossil"],
                    r["n2o"],
                    r["uncertainty"],
                    r["gsd"],
                    r["dqr_ter"],
                    r["dqr_ger"],
                    r["dqr_tir"],
                    r["dqr_p"],
                    r["valid_from"],
                    r["valid_to"],
                    r["source"],
                    r["source_url"],
                    r["license"],
                    "new_data",
                    f"{i:064x}",
                    "b-bench",
                    i + 1,
                    "2024-01-01T00:00:00Z",
                    "[]",
                    "submitted",
                    1,
                ]
            )
    return factors.getvalue().encode(), revisions.getvalue().encode()


def run_worker(*args: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, env=env, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"worker {args[:2]} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--chunk-rows", type=int, default=None)
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--worker", choices=("ingest", "baselines"))
    parser.add_argument("--url")
    parser.add_argument("--file", type=Path)
    args = parser.parse_args()
    if args.worker == "ingest":
        print(json.dumps(worker_ingest(args.url, args.file, args.chunk_rows)))
        return
    if args.worker == "baselines":
        print(json.dumps(worker_baselines(args.file)))
        return

    extra = ["--chunk-rows", str(args.chunk_rows)] if args.chunk_rows else []
    with tempfile.TemporaryDirectory(prefix="factordb-bench-ingest-") as folder:
        file = Path(folder) / "batch.csv"
        started = time.perf_counter()
        generate(file, args.rows)
        document: dict[str, Any] = {
            "rows": args.rows,
            "file_mb": round(file.stat().st_size / 1e6, 1),
            "generate_s": round(time.perf_counter() - started, 1),
        }
        if not args.skip_sqlite:
            url = f"sqlite:///{folder}/bench.sqlite3"
            document["sqlite"] = run_worker(
                "--worker", "ingest", "--url", url, "--file", str(file), *extra
            )
        name, url = create_pg_database()
        try:
            document["postgresql"] = run_worker(
                "--worker", "ingest", "--url", url, "--file", str(file), *extra
            )
        finally:
            drop_pg_database(name)
        document["baselines"] = run_worker("--worker", "baselines", "--file", str(file))
    pg = document["postgresql"]["seconds"]
    base = document["baselines"]
    document["ratios"] = {
        "ingest_vs_copy_constrained": round(pg / base["copy_constrained_s"], 2),
        "ingest_vs_copy_unconstrained": round(pg / base["copy_unconstrained_s"], 2),
    }
    peaks = [document[k]["peak_rss_mb"] for k in ("sqlite", "postgresql") if k in document]
    document["targets"] = {
        "postgresql_within_1_5x_of_constrained_copy": document["ratios"][
            "ingest_vs_copy_constrained"
        ]
        <= 1.5,
        "peak_rss_under_1gb": max(peaks) < 1024,
    }
    print(json.dumps(document, indent=2))


if __name__ == "__main__":
    main()
