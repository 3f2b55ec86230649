"""Load N synthetic factors into a fresh PostgreSQL registry, and export them to SQLite.

Rows are generated inside PostgreSQL (generate_series), so a million factors load in
about a minute; every factor has one approved revision that is current, and one in
twenty also has a submitted second revision (the shape a live registry has).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

PROVIDERS = 20
BASE_UNITS = {"mass": "kg", "energy": "kWh", "transport": "t*km", "item": "item"}


def load_postgres(url: str, factors: int) -> str:
    """Migrate `url`, load `factors` factors, return an accountant's API key."""
    import psycopg

    from factordb.classification import shipped_geographies, shipped_nodes
    from factordb.db import dispose_engine, session_scope
    from factordb.migrate import upgrade
    from factordb.principals import add_org, create_key

    upgrade(url)
    with session_scope(url) as s:
        for n in range(PROVIDERS):
            add_org(s, slug=f"prov{n:02d}", name=f"Provider {n}", kind="provider")
        add_org(s, slug="bench-maker", name="Bench maker", kind="manufacturer")
        key = create_key(s, org="bench-maker", role="accountant")
    dispose_engine(url)
    leaves = [n for n in shipped_nodes() if not any(m.parent == n.code for m in shipped_nodes())]
    nodes = [(n.code, n.dimensions[0]) for n in leaves]
    geos = [g.code for g in shipped_geographies()][:60]
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as pg:
        pg.execute("CREATE TEMP TABLE node_pick (i int, code text, dimension text)")
        with pg.cursor().copy("COPY node_pick FROM STDIN") as copy:
            for i, (code, dim) in enumerate(nodes):
                copy.write_row((i, code, dim))
        pg.execute("CREATE TEMP TABLE geo_pick (i int, code text)")
        with pg.cursor().copy("COPY geo_pick FROM STDIN") as copy:
            for i, code in enumerate(geos):
                copy.write_row((i, code))
        pg.execute(
            f"""
            INSERT INTO factor (factor_id, organisation_id, code, latest_number, created_at)
            SELECT o.slug || ':f' || lpad(g::text, 7, '0'), o.id, 'f' || lpad(g::text, 7, '0'),
                   CASE WHEN g % 20 = 0 THEN 2 ELSE 1 END, now()
            FROM generate_series(1, {factors}) g
            JOIN organisation o ON o.slug = 'prov' || lpad((g % {PROVIDERS})::text, 2, '0')
            """
        )
        for number, status, every in ((1, "approved", 1), (2, "submitted", 20)):
            pg.execute(
                f"""
                INSERT INTO factor_revision (
                    revision_id, factor_pk, number, organisation_id, name, classification,
                    geography, reference_year, technology, value, unit, dimension,
                    original_value, original_unit, gwp_basis, source, change_reason,
                    content_hash, submitted_at, warnings, status, version)
                SELECT f.factor_id || '@{number}', f.id, {number}, f.organisation_id,
                       'Synthetic factor ' || f.code || ' ' || n.code,
                       n.code, g.code, 2015 + f.id % 10, NULL,
                       round((1 + (f.id::bigint * 7919 % 1000) / 10.0)::numeric, 3)::float + {number - 1},
                       CASE n.dimension WHEN 'mass' THEN 'kg' WHEN 'energy' THEN 'kWh'
                            WHEN 'transport' THEN 't*km' ELSE 'item' END,
                       n.dimension, 1.0, 'kgCO2e/kg', 'AR6', 'Synthetic source ' || (f.id % 97),
                       'new_data', md5(f.factor_id || '{number}') || md5(f.code || '{number}'),
                       now(), '[]', '{status}', 1
                FROM factor f
                JOIN node_pick n ON n.i = f.id % (SELECT count(*) FROM node_pick)
                JOIN geo_pick g ON g.i = f.id % (SELECT count(*) FROM geo_pick)
                WHERE f.id % {every} = 0
                """
            )
        pg.execute(
            "UPDATE factor SET current_revision_id = r.id FROM factor_revision r "
            "WHERE r.factor_pk = factor.id AND r.number = 1"
        )
        pg.execute("VACUUM ANALYZE factor")
        pg.execute("VACUUM ANALYZE factor_revision")
    return key


def export_sqlite(url: str, path: Path) -> int:
    """The current revision of every factor as one table, indexed as Datasette users would."""
    import psycopg

    path.unlink(missing_ok=True)
    lite = sqlite3.connect(path)
    lite.execute(
        "CREATE TABLE factors (factor_id TEXT PRIMARY KEY, revision TEXT, provider TEXT, "
        "name TEXT, classification TEXT, geography TEXT, reference_year INTEGER, value REAL, "
        "unit TEXT, dimension TEXT, original_value REAL, original_unit TEXT, gwp_basis TEXT, "
        "source TEXT, status TEXT)"
    )
    rows = 0
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as pg:
        cursor = pg.cursor(name="export")
        cursor.itersize = 20_000
        cursor.execute(
            "SELECT f.factor_id, r.revision_id, o.slug, r.name, r.classification, r.geography, "
            "r.reference_year, r.value, r.unit, r.dimension, r.original_value, r.original_unit, "
            "r.gwp_basis, r.source, r.status FROM factor f "
            "JOIN factor_revision r ON r.id = f.current_revision_id "
            "JOIN organisation o ON o.id = f.organisation_id"
        )
        while batch := cursor.fetchmany(20_000):
            lite.executemany(f"INSERT INTO factors VALUES ({','.join('?' * 15)})", batch)
            rows += len(batch)
    lite.execute("CREATE INDEX ix_factors_classification ON factors (classification)")
    lite.execute("CREATE INDEX ix_factors_geography ON factors (geography)")
    lite.commit()
    lite.execute("ANALYZE")
    lite.close()
    return rows
