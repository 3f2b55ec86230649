"""Schema management through Alembic on SQLite and PostgreSQL."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from factordb.db import get_engine, is_sqlite, normalise_url
from factordb.errors import DatabaseUnavailable

SCHEMA_HEAD = "0002"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("migrations")))
    return config


def upgrade(url: str) -> str:
    """Apply every migration; returns the revision the database is at."""
    engine = get_engine(url)
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return current_revision(engine) or ""


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def require_schema(url: str) -> None:
    """Refuse to work on a database that was never upgraded (and never create a SQLite file)."""
    url = normalise_url(url)
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            from pathlib import Path

            if not Path(database).exists():
                raise DatabaseUnavailable(
                    f"no database at {database}; run `factordb db upgrade` first"
                )
    try:
        revision = current_revision(get_engine(url))
    except OperationalError as exc:
        raise DatabaseUnavailable(f"database unavailable: {str(exc.orig).splitlines()[0]}") from exc
    if revision != SCHEMA_HEAD:
        raise DatabaseUnavailable(
            f"database schema is at {revision or 'nothing'}, expected {SCHEMA_HEAD}; "
            "run `factordb db upgrade`"
        )
