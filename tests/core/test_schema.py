"""The schema, its reference data and the integrity rules the database enforces itself."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlmodel import Session

from factordb.db import get_engine, session_scope
from factordb.errors import DatabaseUnavailable, Immutable
from factordb.migrate import SCHEMA_HEAD, current_revision, require_schema
from tests.factories import make_revision


def test_upgraded_database_is_at_head(db_url: str) -> None:
    assert current_revision(get_engine(db_url)) == SCHEMA_HEAD


def test_reference_data_ships_with_the_schema(session: Session) -> None:
    nodes = session.execute(text("SELECT count(*) FROM classification_node")).scalar_one()
    grid = session.execute(text("SELECT parent FROM geography WHERE code = 'CN-JS'")).scalar_one()
    assert nodes >= 70
    assert grid == "CN-EAST"


def test_missing_sqlite_file_is_not_created(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "absent.sqlite3"
    with pytest.raises(DatabaseUnavailable, match="db upgrade"):
        require_schema(f"sqlite:///{path}")
    assert not path.exists()


def test_submitted_revision_content_cannot_change(db_url: str) -> None:
    with session_scope(db_url) as s:
        revision_pk = make_revision(s, status="submitted").id
    with pytest.raises(Immutable, match="cannot change"), session_scope(db_url) as s:
        s.execute(text("UPDATE factor_revision SET value = 99 WHERE id = :id"), {"id": revision_pk})


def test_revision_status_may_move(db_url: str) -> None:
    with session_scope(db_url) as s:
        revision_pk = make_revision(s, status="submitted").id
    with session_scope(db_url) as s:
        s.execute(
            text("UPDATE factor_revision SET status = 'in_review' WHERE id = :id"),
            {"id": revision_pk},
        )
    with session_scope(db_url) as s:
        status = s.execute(
            text("SELECT status FROM factor_revision WHERE id = :id"), {"id": revision_pk}
        ).scalar_one()
    assert status == "in_review"


def test_revisions_cannot_be_deleted(db_url: str) -> None:
    with session_scope(db_url) as s:
        revision_pk = make_revision(s).id
    with pytest.raises(Immutable), session_scope(db_url) as s:
        s.execute(text("DELETE FROM factor_revision WHERE id = :id"), {"id": revision_pk})


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE factor SET code = 'renamed' WHERE id = :factor",
        "UPDATE factor SET factor_id = 'cnbrc:renamed' WHERE id = :factor",
        "UPDATE factor SET organisation_id = organisation_id + 1 WHERE id = :factor",
        "UPDATE organisation SET slug = 'renamed'",
    ],
)
def test_factor_and_provider_identifiers_never_change(db_url: str, statement: str) -> None:
    with session_scope(db_url) as s:
        factor_pk = make_revision(s, org="cnbrc", code="fixed").factor_pk
        make_revision(s, org="other", code="fixed")
    with pytest.raises(Immutable, match="never change"), session_scope(db_url) as s:
        s.execute(text(statement), {"factor": factor_pk})


def test_a_factor_still_takes_new_revisions(db_url: str) -> None:
    with session_scope(db_url) as s:
        first = make_revision(s, org="cnbrc", code="moving")
    with session_scope(db_url) as s:
        second = make_revision(s, org="cnbrc", code="moving", value=2.0)
    with session_scope(db_url) as s:
        current = s.execute(
            text("SELECT current_revision_id, latest_number FROM factor WHERE id = :id"),
            {"id": first.factor_pk},
        ).one()
    assert tuple(current) == (second.id, 2)
