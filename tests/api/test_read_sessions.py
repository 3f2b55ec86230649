"""GET requests read on autocommit connections: no writer blocks them, a dead pooled
connection is replaced, and the key is checked against the database on every request."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text, update
from sqlalchemy.orm import Session

from factordb.db import get_engine, read_session, session_scope
from factordb.models import Principal
from factordb.principals import hash_key
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


def test_postgresql_plans_each_search_for_its_values(db_url: str, dialect: str) -> None:
    """A prepared `classification LIKE $1` planned once for any value cannot use the
    prefix index: every connection asks PostgreSQL to plan for the actual values."""
    if dialect != "postgresql":
        pytest.skip("plan caching is PostgreSQL's")
    for session in (read_session(db_url), Session(get_engine(db_url))):
        with session:
            mode = session.execute(text("SHOW plan_cache_mode")).scalar_one()
        assert mode == "force_custom_plan"
