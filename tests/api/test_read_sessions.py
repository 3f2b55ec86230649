"""GET requests read on autocommit connections: no writer blocks them, a dead pooled
connection is replaced, and the key is checked against the database on every request."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text, update

from api.app import create_app
from factordb import registry
from factordb.db import get_engine, read_session, session_scope
from factordb.models import Principal
from factordb.principals import SYSTEM, hash_key
from tests.api.conftest import Keys
from tests.factories import make_revision


@pytest.fixture
def factor(db_url: str) -> str:
    with session_scope(db_url) as s:
        make_revision(s, org="cnbrc", code="ncm811-cam")
    return "cnbrc:ncm811-cam"


def test_a_read_is_answered_while_a_writer_holds_its_transaction(
    client: TestClient, keys: Keys, factor: str, db_url: str
) -> None:
    with session_scope(db_url) as writer:
        # SQLite: BEGIN IMMEDIATE holds the database's write lock from here on
        writer.execute(text("UPDATE organisation SET name = name WHERE slug = 'cnbrc'"))
        response = client.get(f"/factors/{factor}", headers=keys.header("accountant"))
        assert (response.status_code, response.json()["factor"]) == (200, factor)


def test_a_read_after_the_database_dropped_its_connections_succeeds(
    client: TestClient, keys: Keys, factor: str, db_url: str, dialect: str
) -> None:
    if dialect != "postgresql":
        pytest.skip("SQLite connections are files: there is no server to drop them")
    assert client.get(f"/factors/{factor}", headers=keys.header("accountant")).status_code == 200
    with session_scope(db_url) as admin:
        dropped = admin.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    assert dropped >= 1
    response = client.get(f"/factors/{factor}", headers=keys.header("accountant"))
    assert (response.status_code, response.json()["factor"]) == (200, factor)


def test_a_revoked_key_is_refused_on_its_next_request(
    client: TestClient, keys: Keys, factor: str, db_url: str
) -> None:
    headers = keys.header("accountant")
    assert client.get(f"/factors/{factor}", headers=headers).status_code == 200
    with session_scope(db_url) as s:
        s.execute(
            update(Principal)
            .where(Principal.key_hash == hash_key(keys.by_role["accountant"]))
            .values(revoked_at=datetime.now(UTC))
        )
    refused = client.get(f"/factors/{factor}", headers=headers)
    assert (refused.status_code, refused.json()["type"]) == (401, "/problems/unauthenticated")


def test_a_search_pattern_is_in_the_statement_so_each_pattern_is_planned(
    db_url: str, dialect: str
) -> None:
    """A prepared `LIKE $1`, planned once for any value, cannot use the prefix or
    trigram index; with the pattern in the text, every pattern gets its own plan."""
    sent: list[tuple[str, Any]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
        sent.append((statement, parameters))

    engine = get_engine(db_url, read_only=True)
    event.listen(engine, "before_cursor_execute", capture)
    try:
        with read_session(db_url) as session:
            registry.search_factors(session, caller=SYSTEM, classification="material", q="it's")
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    statement, parameters = sent[-1]
    statement = statement.replace("%%", "%")  # psycopg's placeholder style escapes it
    assert "'material.%'" in statement
    assert "'%it''s%'" in statement
    assert "material.%" not in str(parameters)


def test_every_read_returns_its_connection_to_the_pool(
    client: TestClient, keys: Keys, factor: str, db_url: str
) -> None:
    """Found, not found, refused and invalid reads all give their connection back."""
    headers = keys.header("accountant")
    statuses = [
        client.get(f"/factors/{factor}", headers=headers).status_code,
        client.get("/factors/cnbrc:nope", headers=headers).status_code,
        client.get(f"/factors/{factor}", headers={"Authorization": "Bearer wrong"}).status_code,
        client.get("/factors?limit=0", headers=headers).status_code,
    ]
    assert statuses == [200, 404, 401, 422]
    assert get_engine(db_url, read_only=True).pool.checkedout() == 0  # type: ignore[attr-defined]


def test_a_read_while_the_server_refuses_connections_is_a_503_problem() -> None:
    app = create_app("postgresql+psycopg://postgres@127.0.0.1:1/factordb")
    with TestClient(app, raise_server_exceptions=False) as down:
        response = down.get("/snapshots", headers={"Authorization": "Bearer any-key"})
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/database-unavailable"
