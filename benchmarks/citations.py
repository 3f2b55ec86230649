"""Citation registry at scale: 10 million citation entries on PostgreSQL, then query latency.

Creates a throwaway database, migrates it, and generates everything inside PostgreSQL
(generate_series): providers and their factors, two sealed snapshots (the second
corrects 10 % of the factors, re-describes 1 % and drops 0.5 %), citing organisations
with one accountant each, and manifests of `--per-manifest` revisions posted over 24
months; the last 5 % of manifests supersede earlier ones of the same declaration.
Entries are produced by `COPY (SELECT … generate_series …) TO STDOUT` and streamed into
`COPY citation_entry FROM STDIN` (binary), with the entry indexes built after the load
and foreign-key triggers off for the load only (`session_replication_role = replica`;
the generator joins the real rows, so every key exists).

Latency is measured through the service functions the API calls (`citation_report`,
`citation_impact`, `citation_errata`, `record_manifest`), one fresh session per call,
random provider / factor / organisation per call, and printed as one JSON document.
`floor_session_and_select_1` is the same call with `SELECT 1` instead: what a fresh
session (pool checkout, pre-ping, commit) costs on this machine, included in every
figure. The database gets `random_page_cost = 1.1`, the usual SSD setting.

    python -m benchmarks.citations                      # 10 M entries (load ≈ 6 min)
    python -m benchmarks.citations --entries 1000000    # quicker
    python -m benchmarks.citations --reuse DBNAME       # measure a kept (--keep) database
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
TARGET_MS = 50.0


def _pg(url: str, **kwargs: Any) -> Any:
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), **kwargs)


def _step(timings: dict[str, float], name: str, started: float) -> float:
    now = time.perf_counter()
    timings[name] = round(now - started, 2)
    print(f"  {name}: {timings[name]:.1f} s", file=sys.stderr)
    return now


def load(
    url: str, *, entries: int, factors: int, providers: int, citers: int, per: int
) -> dict[str, Any]:
    """Generate the registry and the citations; returns the load timings and shape."""
    from factordb.db import dispose_engine
    from factordb.migrate import upgrade

    upgrade(url)
    dispose_engine(url)
    manifests = entries // per
    superseding = (manifests // 20) // citers * citers or citers
    base = manifests - superseding  # manifest m > base supersedes m - base (same citer)
    timings: dict[str, float] = {}
    t = time.perf_counter()
    with _pg(url, autocommit=True) as pg:
        pg.execute("SET maintenance_work_mem = '1GB'")
        pg.execute(
            f"""
            INSERT INTO organisation (slug, name, kind, created_at)
            SELECT 'prov' || g, 'Provider ' || g, 'provider', now() FROM generate_series(1, {providers}) g
            UNION ALL
            SELECT 'maker' || g, 'Maker ' || g, 'manufacturer', now() FROM generate_series(1, {citers}) g;
            INSERT INTO principal (organisation_id, role, name, key_hash, key_prefix, created_at)
            SELECT id, 'accountant', slug, md5(slug) || md5(slug || 'k'), 'fdb_bench', now()
            FROM organisation WHERE kind = 'manufacturer';
            INSERT INTO factor (factor_id, organisation_id, code, latest_number, created_at)
            SELECT o.slug || ':f' || g, o.id, 'f' || g, 1, now()
            FROM generate_series(1, {factors}) g
            JOIN organisation o ON o.slug = 'prov' || (g % {providers} + 1);
            """
        )
        revision_columns = (
            "revision_id, factor_pk, number, organisation_id, name, classification, geography, "
            "reference_year, value, unit, dimension, original_value, original_unit, gwp_basis, "
            "source, change_reason, content_hash, submitted_at, warnings, status, version"
        )
        for number, where, value, reason in (
            (1, "true", "1 + (f.id * 7919 % 1000) / 10.0", "new_data"),
            (
                2,
                f"f.id / {providers} % 10 = 0",
                "(1 + (f.id * 7919 % 1000) / 10.0) * (0.5 + f.id % 7 / 4.0)",
                "correction",
            ),
            (2, f"f.id / {providers} % 100 = 1", "1 + (f.id * 7919 % 1000) / 10.0", "metadata"),
        ):
            pg.execute(
                f"""
                INSERT INTO factor_revision ({revision_columns})
                SELECT f.factor_id || '@{number}', f.id, {number}, f.organisation_id,
                       'Synthetic ' || f.code, 'material.cathode.ncm811', 'CN', 2023,
                       {value}, 'kg', 'mass', {value}, 'kgCO2e/kg', 'AR6', 'Synthetic source',
                       '{reason}', md5(f.factor_id || '{number}') || md5(f.code || '{number}'),
                       now(), '[]', 'approved', 1
                FROM factor f WHERE {where}
                """
            )
        pg.execute(
            """
            UPDATE factor SET latest_number = r.number, current_revision_id = r.id
            FROM (SELECT DISTINCT ON (factor_pk) factor_pk, number, id FROM factor_revision
                  ORDER BY factor_pk, number DESC) r
            WHERE r.factor_pk = factor.id
            """
        )
        for sequence, label, pick in (
            (1, "bench-1", "r.number = 1"),
            (2, "bench-2", f"r.number = f.latest_number AND f.id / {providers} % 200 <> 7"),
        ):
            snapshot_id = f"{sequence:064x}"
            pg.execute(
                "INSERT INTO snapshot (id, sequence, label, factor_count, tree, published_at, sealed, deprecated) "
                "VALUES (%s, %s, %s, 0, '{}', now(), false, false)",
                (snapshot_id, sequence, label),
            )
            pg.execute(
                f"""
                INSERT INTO snapshot_factor (snapshot_seq, factor_pk, revision_pk)
                SELECT {sequence}, f.id, r.id FROM factor f
                JOIN factor_revision r ON r.factor_pk = f.id WHERE {pick}
                """
            )
            pg.execute("UPDATE snapshot SET sealed = true WHERE id = %s", (snapshot_id,))
        s1, s2 = f"{1:064x}", f"{2:064x}"
        t = _step(timings, "registry_seconds", t)
        pg.execute(
            f"""
            INSERT INTO citation_manifest (id, organisation_id, principal_id, declaration, snapshot_id,
                content_hash, supersedes_id, calculated_at, posted_at, month)
            SELECT m, o.id, p.id, 'DECL-' || CASE WHEN m > {base} THEN m - {base} ELSE m END,
                   CASE WHEN m > {base} THEN '{s2}' ELSE '{s1}' END,
                   md5('m' || m) || md5('n' || m), CASE WHEN m > {base} THEN m - {base} END,
                   at, at, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM')
            FROM generate_series(1, {manifests}) m
            CROSS JOIN LATERAL (SELECT timestamptz '2023-01-01 00:00Z'
                + (m::float / {manifests}) * interval '730 days'
                + (m % 97) * interval '1 minute' AS at) t
            JOIN organisation o ON o.slug = 'maker' || (m % {citers} + 1)
            JOIN principal p ON p.organisation_id = o.id;
            SELECT setval(pg_get_serial_sequence('citation_manifest', 'id'), {manifests});
            """
        )
        t = _step(timings, "manifests_seconds", t)
        pg.execute(
            "ALTER TABLE citation_entry DROP CONSTRAINT citation_entry_pkey; "
            "DROP INDEX ix_citation_provider_factor; DROP INDEX ix_citation_provider_manifest"
        )
        generate = f"""
            COPY (
                SELECT m.id, sf.revision_pk, sf.factor_pk, f.organisation_id,
                       round(1.0 / {per}, 4)::float8
                FROM citation_manifest m
                CROSS JOIN generate_series(0, {per - 1}) k
                JOIN snapshot s ON s.id = m.snapshot_id
                JOIN snapshot_factor sf ON sf.snapshot_seq = s.sequence
                     AND sf.factor_pk = (m.id::bigint * 7919 + k * {max(1, factors // per - 1)}) % {factors} + 1
                JOIN factor f ON f.id = sf.factor_pk
            ) TO STDOUT (FORMAT binary)
        """
        with _pg(url, autocommit=True) as sink:
            sink.execute("SET session_replication_role = replica")
            with (
                pg.cursor().copy(generate) as source,
                sink.cursor().copy(
                    "COPY citation_entry (manifest_id, revision_pk, factor_pk, provider_id, share) "
                    "FROM STDIN (FORMAT binary)"
                ) as target,
            ):
                for chunk in source:
                    target.write(chunk)
        t = _step(timings, "copy_entries_seconds", t)
        pg.execute(
            "ALTER TABLE citation_entry ADD CONSTRAINT citation_entry_pkey "
            "PRIMARY KEY (manifest_id, revision_pk)"
        )
        pg.execute(
            "CREATE INDEX ix_citation_provider_factor "
            "ON citation_entry (provider_id, factor_pk, manifest_id, revision_pk)"
        )
        pg.execute(
            "CREATE INDEX ix_citation_provider_manifest "
            "ON citation_entry (provider_id, manifest_id, revision_pk)"
        )
        # The usual setting for SSD or cached data (the default 4.0 models spinning disks);
        # with 4.0 the planner seq-scans all manifests to find one organisation's thousand.
        pg.execute(f'ALTER DATABASE "{pg.info.dbname}" SET random_page_cost = 1.1')
        t = _step(timings, "index_seconds", t)
        pg.execute("VACUUM ANALYZE")
        t = _step(timings, "vacuum_analyze_seconds", t)
        loaded = pg.execute("SELECT count(*) FROM citation_entry").fetchone()[0]
        size = pg.execute(
            "SELECT pg_total_relation_size('citation_entry') + pg_total_relation_size('citation_manifest')"
        ).fetchone()[0]
    return {
        "entries": loaded,
        "manifests": manifests,
        "superseded_manifests": superseding,
        "factors": factors,
        "providers": providers,
        "citing_organisations": citers,
        "revisions_per_manifest": per,
        "citation_tables_mb": round(size / 2**20),
        "load": timings,
    }


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 2),
        "max_ms": round(ordered[-1], 2),
        "n": len(ordered),
    }


def measure(
    url: str, *, iterations: int, seed: int, only: list[str] | None = None
) -> dict[str, Any]:
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from factordb.db import session_scope
    from factordb.pagination import encode_cursor
    from factordb.principals import Caller
    from snapshots.citations import (
        citation_errata,
        citation_impact,
        citation_report,
        record_manifest,
    )

    rng = random.Random(seed)
    with session_scope(url) as s:
        orgs = s.execute(text("SELECT id, slug, kind FROM organisation")).all()
        principal = dict(s.execute(text("SELECT organisation_id, id FROM principal")).all())
        factors = s.execute(text("SELECT id, factor_id, organisation_id FROM factor")).all()
        max_manifest = s.execute(text("SELECT max(id) FROM citation_manifest")).scalar_one()
        s1_revisions = (
            s.execute(
                text(
                    "SELECT r.revision_id FROM snapshot_factor sf JOIN factor_revision r "
                    "ON r.id = sf.revision_pk WHERE sf.snapshot_seq = 1"
                ),
            )
            .scalars()
            .all()
        )
    providers = [Caller(0, o.id, o.slug, "provider") for o in orgs if o.kind == "provider"]
    makers = [
        Caller(principal[o.id], o.id, o.slug, "accountant")
        for o in orgs
        if o.kind == "manufacturer"
    ]
    verifier = Caller(0, 0, "bench-verifier", "verifier")
    by_provider: dict[int, list[Any]] = {}
    for f in factors:
        by_provider.setdefault(f.organisation_id, []).append(f)

    def provider_page(s: Session) -> None:
        citation_report(s, caller=rng.choice(providers), limit=100)

    def provider_deep_page(s: Session) -> None:
        caller = rng.choice(providers)
        factor = rng.choice(by_provider[caller.organisation_id])
        cursor = encode_cursor([[factor.id, "", 0, ""], [rng.randint(1, max_manifest), 0]])
        citation_report(s, caller=caller, cursor=cursor, limit=100)

    def factor_detail(s: Session) -> None:
        caller = rng.choice(providers)
        factor = rng.choice(by_provider[caller.organisation_id])
        citation_report(s, caller=caller, factor=factor.factor_id, limit=100)

    def provider_since(s: Session) -> None:
        citation_report(
            s,
            caller=rng.choice(providers),
            since=rng.choice([date(2024, 6, 1), date(2024, 12, 1)]),
            limit=100,
        )

    def accountant_page(s: Session) -> None:
        citation_report(s, caller=rng.choice(makers), limit=100)

    def verifier_declaration(s: Session) -> None:
        citation_report(s, caller=verifier, declaration=f"DECL-{rng.randint(1, max_manifest)}")

    def provider_impact(s: Session) -> None:
        citation_impact(
            s,
            caller=rng.choice(providers),
            from_snapshot="bench-1",
            to_snapshot="bench-2",
            limit=100,
        )

    def accountant_impact(s: Session) -> None:
        citation_impact(
            s, caller=rng.choice(makers), from_snapshot="bench-1", to_snapshot="bench-2", limit=100
        )

    def accountant_errata(s: Session) -> None:
        citation_errata(s, caller=rng.choice(makers), limit=100)

    def post_manifest(s: Session) -> None:
        record_manifest(
            s,
            caller=rng.choice(makers),
            snapshot="bench-1",
            declaration=f"BENCH-{uuid.uuid4().hex}",
            revisions=rng.sample(s1_revisions, 20),
        )

    def floor(s: Session) -> None:
        s.execute(text("SELECT 1"))

    cases: dict[str, Callable[[Session], None]] = {
        "floor_session_and_select_1": floor,
        "provider_aggregate_first_page": provider_page,
        "provider_aggregate_random_page": provider_deep_page,
        "factor_detail_page": factor_detail,
        "provider_since_filter": provider_since,
        "accountant_own_manifests": accountant_page,
        "verifier_one_declaration": verifier_declaration,
        "provider_impact": provider_impact,
        "accountant_impact": accountant_impact,
        "accountant_errata": accountant_errata,
        "post_manifest_20_revisions": post_manifest,
    }
    results: dict[str, Any] = {}
    for name, case in cases.items():
        if only and name not in only and name != "floor_session_and_select_1":
            continue
        samples = []
        for i in range(iterations + 5):
            with session_scope(url) as session:
                started = time.perf_counter()
                case(session)
                elapsed = (time.perf_counter() - started) * 1000
            if i >= 5:  # warm-up
                samples.append(elapsed)
        results[name] = _percentiles(samples)
        print(f"  {name}: {results[name]}", file=sys.stderr)
    if only:
        return results
    with _pg(url) as pg:
        provider = rng.choice(providers).organisation_id
        started = time.perf_counter()
        pg.execute(
            "SELECT m.month, count(*) FROM citation_entry e JOIN citation_manifest m ON m.id = e.manifest_id "
            "WHERE e.provider_id = %s AND NOT EXISTS (SELECT 1 FROM citation_manifest n WHERE n.supersedes_id = m.id) "
            "GROUP BY m.month",
            (provider,),
        ).fetchall()
        results["provider_all_time_monthly_totals_full_scan_ms"] = round(
            (time.perf_counter() - started) * 1000, 1
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000_000)
    parser.add_argument("--factors", type=int, default=100_000)
    parser.add_argument("--providers", type=int, default=50)
    parser.add_argument("--citers", type=int, default=500)
    parser.add_argument("--per-manifest", type=int, default=20)
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--admin-url", default=ADMIN_URL)
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    parser.add_argument("--reuse", help="Measure an existing database (name) instead of loading.")
    parser.add_argument("--only", help="Comma-separated case names to measure (default: all).")
    args = parser.parse_args()
    base = args.admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    name = args.reuse or f"fdb_bench_citations_{uuid.uuid4().hex[:8]}"
    url = f"{base}/{name}"
    if not args.reuse:
        with _pg(args.admin_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    try:
        shape: dict[str, Any] = {"database": name}
        if not args.reuse:
            print(f"loading {args.entries:,} citation entries into {name}", file=sys.stderr)
            shape.update(
                load(
                    url,
                    entries=args.entries,
                    factors=args.factors,
                    providers=args.providers,
                    citers=args.citers,
                    per=args.per_manifest,
                )
            )
        print("measuring", file=sys.stderr)
        only = args.only.split(",") if args.only else None
        queries = measure(url, iterations=args.iterations, seed=args.seed, only=only)
        targets = {
            k: v["p95_ms"] < TARGET_MS
            for k, v in queries.items()
            if k
            in (
                "provider_aggregate_first_page",
                "provider_aggregate_random_page",
                "factor_detail_page",
            )
        }
        print(
            json.dumps(
                {
                    "benchmark": "citations",
                    **shape,
                    "target_p95_ms": TARGET_MS,
                    "queries": queries,
                    "meets_target": targets,
                },
                indent=2,
            )
        )
    finally:
        from factordb.db import dispose_engine

        dispose_engine(url)
        if not args.keep and not args.reuse:
            with _pg(args.admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
