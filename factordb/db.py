"""Engines and sessions for SQLite (embedded default) and PostgreSQL (psycopg 3).

Services flush; the edge (CLI command, API dependency) commits through `session_scope`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlmodel import Session

from factordb.errors import Conflict, DatabaseUnavailable, FactordbError, Immutable

IMMUTABLE_MARK = "factordb-immutable"


def normalise_url(url: str) -> str:
    """Accept `postgresql://` and `postgres://` for psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def is_sqlite(url: str) -> bool:
    return make_url(normalise_url(url)).get_backend_name() == "sqlite"


_engines: dict[str, Engine] = {}


def get_engine(url: str) -> Engine:
    """One engine (and pool) per database URL per process."""
    url = normalise_url(url)
    engine = _engines.get(url)
    if engine is None:
        if is_sqlite(url):
            engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 60})
            _configure_sqlite(engine)
        else:
            engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
        _engines[url] = engine
    return engine


def dispose_engine(url: str) -> None:
    engine = _engines.pop(normalise_url(url), None)
    if engine is not None:
        engine.dispose()


def _configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, and BEGIN IMMEDIATE so writers queue instead of failing late."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:  # type: ignore[no-untyped-def]
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def translate_db_error(exc: Exception) -> FactordbError:
    """Map driver errors to domain errors: trigger refusals, constraint clashes, outages."""
    message = str(getattr(exc, "orig", exc))
    if IMMUTABLE_MARK in message:
        return Immutable(message.split(IMMUTABLE_MARK + ":", 1)[-1].strip().splitlines()[0])
    if isinstance(exc, IntegrityError):
        return Conflict(f"conflicts with existing data: {message.splitlines()[0]}")
    if isinstance(exc, OperationalError) and (
        "could not connect" in message
        or "unable to open" in message
        or "Connection refused" in message
        or "connection failed" in message
        or "no such table" in message
        or "does not exist" in message
    ):
        return DatabaseUnavailable(f"database unavailable: {message.splitlines()[0]}")
    if isinstance(exc, OperationalError) and (
        "could not serialize" in message or "deadlock" in message
    ):
        return Conflict("a concurrent change won; retry")
    return DatabaseUnavailable(f"database error: {message.splitlines()[0]}")


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """One transaction: commit on success, roll back and translate driver errors on failure."""
    session = Session(get_engine(url), expire_on_commit=False)
    try:
        yield session
        session.commit()
    except DBAPIError as exc:
        session.rollback()
        raise translate_db_error(exc) from exc
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
