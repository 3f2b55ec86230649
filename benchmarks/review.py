"""Expert review at scale: a queue of 100,000 pending revisions and 50 experts, on both databases.

For each dialect (a throwaway PostgreSQL database and a SQLite file), migrates, then
loads `--providers` provider organisations, `--experts` experts in ten pool
organisations with specialties spread over the classification tree, and `--pending`
pending revisions spread over the tree's leaves, submitted over 30 days; every other
factor already has an approved revision, so the queue shows a current value and a
relative change. `--approve` of the pending revisions form one ingest batch.

Measured through the service functions the CLI and the API call, one fresh session
per call (as a request would have):
- `queue`: an expert's first page (100 rows), every expert in turn, `--rounds` times,
  after one warm-up round; also the first page narrowed to a classification subtree
  and the page after following the cursor ten pages deep;
- `approve_batch`: two experts (quorum 2) each approve the whole batch with
  `decide_batch`, each in one transaction including its commit and audit events.

    python benchmarks/review.py                       # both dialects, 100k pending
    python benchmarks/review.py --dialect postgresql --pending 20000

Prints one JSON document; the target is a queue page under 50 ms at p95 on PostgreSQL.
Latencies include the session, the query, the documents and the commit; the 1-minute
load average after each part is reported, since other work on the host inflates them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_ADMIN = os.environ.get("FACTORDB_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
TARGET_MS = 50.0
CHUNK = 10_000
SPECIALTIES = [
    ["material"],
    ["material.cathode"],
    ["material.anode", "material.electrolyte"],
    ["energy"],
    ["energy.electricity"],
    ["transport"],
    ["recycling"],
    ["material.lithium", "material.metal-salt", "material.precursor"],
    ["material.housing", "material.electronics", "material.cable"],
    ["material", "recycling"],
]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(p95 * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


def leaves() -> list[str]:
    from factordb.classification import shipped_nodes

    nodes = shipped_nodes()
    parents = {n.parent for n in nodes}
    return sorted(n.code for n in nodes if n.code not in parents and n.code != "other")


def seed(url: str, *, pending: int, providers: int, experts: int, batch: int) -> dict[str, Any]:
    """Load organisations, expert keys, factors and revisions; returns keys and timings."""
    from sqlalchemy import insert, select, text

    from factordb.db import session_scope
    from factordb.models import Factor, FactorRevision, IngestBatch, Organisation, Principal
    from factordb.principals import add_org, authenticate, create_key

    started = time.perf_counter()
    codes = leaves()
    with session_scope(url) as s:
        slugs = [f"prov{i:02d}" for i in range(providers)]
        for slug in slugs:
            add_org(s, slug=slug, name=slug.upper(), kind="provider")
        for i in range(10):
            add_org(s, slug=f"pool{i}", name=f"Expert pool {i}", kind="verifier")
        keys = [
            create_key(
                s, org=f"pool{i % 10}", role="expert", specialties=SPECIALTIES[i % len(SPECIALTIES)]
            )
            for i in range(experts)
        ]
        org_ids = dict(s.execute(select(Organisation.slug, Organisation.id)).all())
        submitter = create_key(s, org=slugs[0], role="provider")
        submitter_id = s.execute(select(Principal.id).order_by(Principal.id.desc())).scalar()
        s.add(
            IngestBatch(
                id="b-bench",
                organisation_id=org_ids[slugs[0]],
                principal_id=submitter_id,
                filename="bench.csv",
                file_sha256="0" * 64,
                rows=batch,
                status="accepted",
                report="{}",
            )
        )
        s.flush()
        callers = [authenticate(s, key) for key in keys]
        submitter_caller = authenticate(s, submitter)

    epoch = datetime(2026, 1, 1, tzinfo=UTC)
    # The batch: the first `batch` revisions, from prov00, in the material subtree.
    material = [c for c in codes if c.startswith("material.")]
    for start in range(0, pending, CHUNK):
        stop = min(pending, start + CHUNK)
        with session_scope(url) as s:
            factor_rows = []
            for i in range(start, stop):
                slug = slugs[0] if i < batch else slugs[i % providers]
                factor_rows.append(
                    {
                        "factor_id": f"{slug}:f{i:07d}",
                        "organisation_id": org_ids[slug],
                        "code": f"f{i:07d}",
                        "latest_number": 2 if i % 2 else 1,
                    }
                )
            ids = {
                code: pk
                for pk, code in s.execute(
                    insert(Factor).returning(Factor.id, Factor.code, sort_by_parameter_order=True),
                    factor_rows,
                )
            }
            revisions = []
            for i in range(start, stop):
                slug = slugs[0] if i < batch else slugs[i % providers]
                code = material[i % len(material)] if i < batch else codes[i % len(codes)]
                base = {
                    "factor_pk": ids[f"f{i:07d}"],
                    "organisation_id": org_ids[slug],
                    "name": f"Factor {i}",
                    "classification": code,
                    "geography": "CN",
                    "reference_year": 2024,
                    "unit": "kg",
                    "dimension": "mass",
                    "original_unit": "kgCO2e/kg",
                    "gwp_basis": "AR6",
                    "source": "benchmark",
                    "change_reason": "new_data",
                    "warnings": "[]",
                    "submitted_by": None,
                    "row_number": None,
                    "version": 1,
                }
                if i % 2:
                    revisions.append(
                        {
                            **base,
                            "revision_id": f"{slug}:f{i:07d}@1",
                            "number": 1,
                            "value": 10.0 + i % 7,
                            "original_value": 10.0 + i % 7,
                            "content_hash": hashlib.sha256(f"{i}@1".encode()).hexdigest(),
                            "status": "approved",
                            "submitted_at": epoch - timedelta(days=400),
                            "batch_id": None,
                        }
                    )
                number = 2 if i % 2 else 1
                revisions.append(
                    {
                        **base,
                        "revision_id": f"{slug}:f{i:07d}@{number}",
                        "number": number,
                        "value": 11.0 + i % 5,
                        "original_value": 11.0 + i % 5,
                        "content_hash": hashlib.sha256(f"{i}@{number}".encode()).hexdigest(),
                        "status": "submitted",
                        "submitted_at": epoch + timedelta(seconds=i * 26),
                        "batch_id": "b-bench" if i < batch else None,
                        "submitted_by": submitter_id,
                        "row_number": i + 2 if i < batch else None,
                    }
                )
            s.execute(insert(FactorRevision.__table__), revisions)
        log(f"  loaded {stop:,} / {pending:,} pending revisions")
    with session_scope(url) as s:
        # Statistics first: on freshly loaded tables the planner would scan per factor.
        s.execute(text("ANALYZE"))
        s.execute(
            text(
                "UPDATE factor SET current_revision_id = (SELECT r.id FROM factor_revision r "
                "WHERE r.factor_pk = factor.id AND r.status = 'approved') "
                "WHERE factor.latest_number = 2"
            )
        )
    with session_scope(url) as s:
        s.execute(text("ANALYZE"))
    return {
        "callers": callers,
        "submitter": submitter_caller,
        "seconds": round(time.perf_counter() - started, 1),
    }


def timed(url: str, call: Callable[[Any], Any]) -> tuple[float, Any]:
    from factordb.db import session_scope

    started = time.perf_counter()
    with session_scope(url) as s:
        result = call(s)
    return time.perf_counter() - started, result


def queue_latency(url: str, callers: list[Any], rounds: int) -> dict[str, Any]:
    from review import service

    def first_page(caller: Any) -> Callable[[Any], Any]:
        return lambda s: service.queue(s, caller=caller)

    for caller in callers:  # warm-up: caches, prepared plans
        timed(url, first_page(caller))
    samples: list[float] = []
    sizes: list[int] = []
    for _ in range(rounds):
        for caller in callers:
            seconds, page = timed(url, first_page(caller))
            samples.append(seconds)
            sizes.append(len(page.items))
    narrowed = [
        timed(
            url,
            lambda s, c=caller: service.queue(s, caller=c, classification="material.cathode"),
        )[0]
        for caller in callers
        if any(n in ("material", "material.cathode") for n in caller.specialties)
    ]
    deep: list[float] = []
    for caller in callers[:10]:
        cursor = None
        for _ in range(10):
            _, page = timed(url, lambda s, c=caller, k=cursor: service.queue(s, caller=c, cursor=k))
            cursor = page.next_cursor
        deep.append(
            timed(url, lambda s, c=caller, k=cursor: service.queue(s, caller=c, cursor=k))[0]
        )
    return {
        "first_page": percentiles(samples),
        "rows_per_page_min": min(sizes),
        "first_page_classification_filter": percentiles(narrowed),
        "page_11_by_cursor": percentiles(deep),
    }


def plan(url: str, caller: Any) -> str:
    """The PostgreSQL plan of an expert's first page (first lines), to see the index used."""
    from sqlalchemy import text

    from factordb.db import session_scope
    from factordb.models import FactorRevision
    from review import reads

    query = (
        reads.queue_query(caller, classification=None, provider_id=None)
        .order_by(FactorRevision.submitted_at, FactorRevision.id)
        .limit(101)
    )
    with session_scope(url) as s:
        sql = str(query.compile(s.get_bind(), compile_kwargs={"literal_binds": True}))
        prefix = "EXPLAIN (ANALYZE, COSTS OFF) " if "postgresql" in url else "EXPLAIN QUERY PLAN "
        rows = s.execute(text(prefix + sql)).all()
    return " | ".join(str(r[-1]).strip() for r in rows[:8])


def approve_batch(url: str, experts: list[Any], batch: int) -> dict[str, Any]:
    from review import service
    from review.policy import Policy

    rounds = []
    for expert in experts:
        seconds, result = timed(
            url,
            lambda s, e=expert: service.decide_batch(
                s, caller=e, batch_id="b-bench", decision="approve", policy=Policy(2)
            ),
        )
        statuses = sorted({d.status for d in result.decided})
        rounds.append(
            {
                "seconds": round(seconds, 2),
                "decided": len(result.decided),
                "skipped": len(result.skipped),
                "statuses": statuses,
                "revisions_per_second": round(len(result.decided) / seconds),
            }
        )
    total = sum(r["seconds"] for r in rounds)
    return {
        "revisions": batch,
        "quorum": 2,
        "rounds": rounds,
        "total_seconds": round(total, 2),
        "decisions_per_second": round(2 * batch / total),
    }


def run(url: str, args: argparse.Namespace) -> dict[str, Any]:
    from factordb.db import dispose_engine
    from factordb.migrate import upgrade

    upgrade(url)
    dispose_engine(url)
    loaded = seed(
        url,
        pending=args.pending,
        providers=args.providers,
        experts=args.experts,
        batch=args.approve,
    )
    log(f"  seeded in {loaded['seconds']} s; timing the queue")
    callers = loaded["callers"]
    queue = queue_latency(url, callers, args.rounds)
    queue["plan"] = plan(url, callers[0])
    queue["load_average_after"] = round(os.getloadavg()[0], 2)
    log("  approving the batch")
    broad = [c for c in callers if "material" in c.specialties][:2]
    approval = approve_batch(url, broad, args.approve)
    approval["load_average_after"] = round(os.getloadavg()[0], 2)
    dispose_engine(url)
    return {"seed_seconds": loaded["seconds"], "queue": queue, "approve_batch": approval}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dialect", choices=["both", "sqlite", "postgresql"], default="both")
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--experts", type=int, default=50)
    parser.add_argument("--providers", type=int, default=20)
    parser.add_argument("--approve", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    if args.approve > args.pending:
        parser.error("--approve cannot exceed --pending")

    import psycopg

    results: dict[str, Any] = {}
    if args.dialect in ("both", "postgresql"):
        name = f"fdb_bench_review_{uuid.uuid4().hex[:8]}"
        admin = PG_ADMIN.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            log("postgresql")
            url = admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
            results["postgresql"] = run(f"{url}/{name}", args)
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if args.dialect in ("both", "sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            log("sqlite")
            results["sqlite"] = run(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", args)
    pg_p95 = results.get("postgresql", {}).get("queue", {}).get("first_page", {}).get("p95_ms")
    print(
        json.dumps(
            {
                "benchmark": "review",
                "pending": args.pending,
                "experts": args.experts,
                "providers": args.providers,
                "cpus": os.cpu_count(),
                "target_queue_p95_ms": TARGET_MS,
                "queue_target_met_postgresql": None if pg_p95 is None else pg_p95 < TARGET_MS,
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
