"""The search's filters can use their indexes on PostgreSQL (pattern ops, trigrams).

Tables in a test are tiny, so the planner would scan them anyway; with sequential and
plain index scans disabled, the bitmap scans in the plan show which index each filter
can use, which is what breaks when a filter is rewritten into a form no index serves.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, text
from sqlmodel import Session

from factordb import registry
from factordb.db import get_engine
from tests.factories import make_caller, make_revision


@pytest.fixture
def pg_session(session: Session, dialect: str) -> Session:
    if dialect != "postgresql":
        pytest.skip("query plans are PostgreSQL's; SQLite is the small embedded default")
    make_revision(session, org="cnbrc", code="ncm811-cam", name="NCM811 cathode")
    session.execute(text("SET LOCAL enable_seqscan = off"))
    session.execute(text("SET LOCAL enable_indexscan = off"))
    return session


def plan_of_search(session: Session, **filters: Any) -> str:
    """EXPLAIN of the statement `search_factors` sends for these filters."""
    caller = make_caller(session, org="catl", role="accountant")[1]
    sent: list[tuple[str, Any]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
        sent.append((statement, parameters))

    engine = get_engine(str(session.get_bind().url.render_as_string(hide_password=False)))
    event.listen(engine, "before_cursor_execute", capture)
    try:
        registry.search_factors(session, caller=caller, limit=50, **filters)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    statement, parameters = sent[-1]
    cursor = session.connection().connection.cursor()
    cursor.execute("EXPLAIN " + statement, parameters)
    return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        ({"q": "ncm811"}, "ix_revision_name_trgm"),
        ({"q": "ncm811"}, "ix_revision_revision_id_trgm"),
        ({"q": "ncm811"}, "ix_revision_source_trgm"),
        ({"classification": "material.cathode"}, "ix_factor_revision_classification"),
        ({"geography": "CN-EAST"}, "ix_factor_revision_geography"),
    ],
)
def test_search_filter_can_use_its_index(
    pg_session: Session, filters: dict[str, Any], index: str
) -> None:
    assert index in plan_of_search(pg_session, **filters)
