"""Driver errors reach callers as domain errors, whatever the dialect."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from factordb.db import session_scope
from factordb.errors import Conflict, ValidationFailed


def test_a_value_the_database_cannot_store_is_bad_input_not_an_outage(
    db_url: str, dialect: str
) -> None:
    if dialect != "postgresql":
        pytest.skip("SQLite stores NUL characters and any integer size")
    with pytest.raises(ValidationFailed, match="cannot store"), session_scope(db_url) as s:
        s.execute(text("SELECT CAST(:value AS text)"), {"value": "a\x00b"})


def test_a_duplicate_key_is_a_conflict(db_url: str) -> None:
    with session_scope(db_url) as s:
        s.execute(
            text("INSERT INTO organisation (slug, name, kind) VALUES ('dup', 'Dup', 'provider')")
        )
    with pytest.raises(Conflict), session_scope(db_url) as s:
        s.execute(
            text("INSERT INTO organisation (slug, name, kind) VALUES ('dup', 'Dup', 'provider')")
        )
