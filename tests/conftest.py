"""Shared fixtures: every database test runs on a fresh SQLite file and a fresh PostgreSQL database.

Each worker migrates one template per dialect once. On SQLite a test gets a copy of
the template file; on PostgreSQL each worker has one database (a template copy) that is
emptied with TRUNCATE after every test, so tests are isolated and fast.
With CI set, a missing PostgreSQL fails the run instead of skipping its half.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlmodel import Session, SQLModel

import factordb.models  # noqa: F401  (every table in the metadata)
from factordb.db import dispose_engine, session_scope
from factordb.migrate import upgrade

KEEP = {"classification_node", "geography"}
PG_ADMIN_URL = os.environ.get("FACTORDB_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def _pg_admin():  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(
        PG_ADMIN_URL.replace("postgresql+psycopg", "postgresql"), autocommit=True, connect_timeout=3
    )


def _pg_available() -> bool:
    try:
        with _pg_admin():
            return True
    except Exception:
        return False


def _pg_url(name: str) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def worker_id_str(request: pytest.FixtureRequest) -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    dispose_engine(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_template(worker_id_str: str) -> Iterator[str]:
    if not _pg_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not reachable at " + PG_ADMIN_URL + " and CI is set")
        pytest.skip("PostgreSQL not reachable (set CI=true to make this a failure)")
    name = f"fdb_tpl_{worker_id_str}_{uuid.uuid4().hex[:8]}"
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    upgrade(_pg_url(name))
    dispose_engine(_pg_url(name))
    yield name
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_database(request: pytest.FixtureRequest, dialect: str, directory: Path) -> Iterator[str]:
    """A new migrated database of its own (a template copy), dropped afterwards.

    For fixtures that need a database beside the per-test one (module-scoped data,
    cross-dialect comparisons).
    """
    if dialect == "sqlite":
        path = directory / f"db-{uuid.uuid4().hex[:8]}.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
        try:
            yield url
        finally:
            dispose_engine(url)
        return
    template = request.getfixturevalue("pg_template")
    name = f"fdb_t_{uuid.uuid4().hex[:12]}"
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    url = _pg_url(name)
    try:
        yield url
    finally:
        dispose_engine(url)
        with _pg_admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_worker_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """This worker's PostgreSQL database, emptied after each test instead of recreated."""
    with fresh_database(request, "postgresql", tmp_path_factory.mktemp("pg")) as url:
        yield url


def _empty_pg(url: str) -> None:
    """TRUNCATE every table but the shipped reference data (triggers guard rows, not TRUNCATE).

    Cheaper than a database per test by two orders of magnitude; a test that left a
    connection in a transaction gets it terminated first.
    """
    import psycopg

    dispose_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables if t.name not in KEEP)
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database for this test."""
    if request.param == "sqlite":
        with fresh_database(request, "sqlite", tmp_path) as url:
            yield url
        return
    url = request.getfixturevalue("pg_worker_database")
    try:
        yield url
    finally:
        _empty_pg(url)


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    """A session in one transaction, committed at the end like a CLI command."""
    with session_scope(db_url) as s:
        yield s


@pytest.fixture
def dialect(db_url: str) -> str:
    return "sqlite" if db_url.startswith("sqlite") else "postgresql"
