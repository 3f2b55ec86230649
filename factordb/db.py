"""Engines and sessions for SQLite (embedded default) and PostgreSQL (psycopg 3).

Services flush; the edge (CLI command, API dependency) commits through `session_scope`.
Reads that need no transaction (the API's GET requests) use `read_session`: an
autocommit connection from a second pool, so a lookup costs its own statements and no
BEGIN/COMMIT round trips, and on SQLite never takes the write lock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Dialect, Engine, Select, create_engine, event, literal
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from factordb.errors import (
    Conflict,
    DatabaseUnavailable,
    FactordbError,
    Immutable,
    ValidationFailed,
)

IMMUTABLE_MARK = "factordb-immutable"
T = TypeVar("T")


def normalise_url(url: str) -> str:
    """Accept `postgresql://` and `postgres://` for psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def is_sqlite(url: str) -> bool:
    return make_url(normalise_url(url)).get_backend_name() == "sqlite"


_engines: dict[tuple[str, bool], Engine] = {}


def get_engine(url: str, *, read_only: bool = False) -> Engine:
    """One engine (and pool) per database URL per process, plus one for autocommit reads.

    The write engine pings a pooled connection before use. The read engine does not:
    its first statement of a request is retried once on a fresh connection instead
    (`retry_disconnect`), which costs nothing while the database stays up.
    """
    url = normalise_url(url)
    engine = _engines.get((url, read_only))
    if engine is None:
        engine = _create_engine(url, read_only=read_only)
        _engines[(url, read_only)] = engine
    return engine


def _create_engine(url: str, *, read_only: bool) -> Engine:
    if is_sqlite(url):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 60})
        _configure_sqlite(engine, read_only=read_only)
        return engine
    if read_only:
        return create_engine(
            url,
            isolation_level="AUTOCOMMIT",
            skip_autocommit_rollback=True,
            pool_size=10,
            max_overflow=20,
        )
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def inline_pattern(pattern: str) -> Any:
    """A LIKE pattern written into the statement's text instead of bound as a parameter.

    psycopg prepares a statement after five runs on a connection, and PostgreSQL may
    then plan it once for every parameter value: a generic plan for `LIKE $1` cannot
    use the prefix or trigram index (a 5 ms search page took 300 ms under load). With
    the pattern in the text, each pattern gets its own plan. SQLAlchemy renders and
    quotes the literal; the value stays data.
    """
    return literal(pattern, literal_execute=True)


class DriverSelect:
    """A prebuilt SELECT that a hot read runs straight on the driver's cursor.

    For the statements every API request runs (the key lookup, the "as of" lookup):
    SQLAlchemy's per-execution work (execution context, result metadata built from
    the cursor description, row processors) cost more CPU than the query itself,
    about 65 µs of 120 µs for a 38-column row. The SQL is compiled once per dialect
    by SQLAlchemy; only the execution is direct. Driver errors come out as SQLAlchemy's
    `DBAPIError`, with a dead connection invalidated, exactly as from `execute`, so
    `retry_disconnect` and the error translation treat both paths alike. Values come as
    the driver returns them (no type processing): keep to text and numbers, or dates
    the caller formats.
    """

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self.keys = tuple(statement.selected_columns.keys())
        self._compiled: dict[str, tuple[str, list[str] | None]] = {}

    def _compile(self, dialect: Dialect) -> tuple[str, list[str] | None]:
        compiled = self.statement.compile(dialect=dialect)
        positions = list(compiled.positiontup) if compiled.positional else None
        self._compiled[dialect.name] = (str(compiled), positions)
        return self._compiled[dialect.name]

    def rows(self, session: OrmSession, **params: Any) -> list[dict[str, Any]]:
        connection = session.connection()
        dialect = connection.dialect
        sql, positions = self._compiled.get(dialect.name) or self._compile(dialect)
        args: Any = params if positions is None else [params[name] for name in positions]
        raw = connection.connection.dbapi_connection
        cursor = raw.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(sql, args)
            found = cursor.fetchall()
        except dialect.loaded_dbapi.Error as exc:
            invalidated = dialect.is_disconnect(exc, raw, cursor)  # type: ignore[arg-type]
            if invalidated:
                connection.invalidate(exc)
            raise DBAPIError.instance(
                sql,
                args,
                exc,
                dialect.loaded_dbapi.Error,
                connection_invalidated=invalidated,
                dialect=dialect,
            ) from exc
        finally:
            cursor.close()
        return [dict(zip(self.keys, row, strict=True)) for row in found]

    def first(self, session: OrmSession, **params: Any) -> dict[str, Any] | None:
        found = self.rows(session, **params)
        return found[0] if found else None


def dispose_engine(url: str) -> None:
    for read_only in (False, True):
        engine = _engines.pop((normalise_url(url), read_only), None)
        if engine is not None:
            engine.dispose()


def _configure_sqlite(engine: Engine, *, read_only: bool) -> None:
    """WAL, foreign keys, and BEGIN IMMEDIATE so writers queue instead of failing late.

    The read engine runs each statement in its own implicit transaction: WAL readers
    never wait for the writer, and a read never takes the write lock.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    if read_only:
        return

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
    if isinstance(exc, DataError):
        # a value the database cannot hold (a NUL in text, a number out of range) that
        # slipped past validation is still bad input, not an outage
        return ValidationFailed(f"a value the database cannot store: {message.splitlines()[0]}")
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


def read_session(url: str) -> Session:
    """A session on the autocommit read engine: no transaction, nothing to commit.

    For requests that only read. Each statement sees the latest committed state, as
    under PostgreSQL's READ COMMITTED anyway; snapshot contents never change at all.
    Close it when done. Driver errors surface as SQLAlchemy's `DBAPIError`: the API
    translates them in one handler (`translate_db_error`).
    """
    return Session(get_engine(url, read_only=True), expire_on_commit=False)


def retry_disconnect(session: Session, work: Callable[[], T]) -> T:
    """Run a read-session request's first statement, once more if its connection was dead.

    A pooled connection can outlive a database restart; the driver error marks it
    invalidated, and nothing of the request has happened yet, so a retry on a fresh
    connection is safe. This replaces a ping before every checkout.
    """
    try:
        return work()
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        session.rollback()
        return work()


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
