"""Snapshot references (ID, prefix, label) and immutability enforced by the database."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from sqlmodel import Session

from factordb.db import session_scope
from factordb.errors import Conflict, Immutable, NotFound, ValidationFailed
from factordb.models import Snapshot
from factordb.principals import SYSTEM
from snapshots import service
from snapshots.verify import verify_file
from tests.factories import make_revision
from tests.snapshots.content import seed


@pytest.fixture
def published(db_url: str) -> str:
    with session_scope(db_url) as s:
        seed(s)
    with session_scope(db_url) as s:
        return service.publish(s, caller=SYSTEM, label="2025-Q1")["snapshot_id"]


@pytest.mark.parametrize("form", ["full", "prefix", "label"])
def test_a_snapshot_is_found_by_full_id_unique_prefix_or_label(
    db_url: str, published: str, form: str
) -> None:
    ref = {"full": published, "prefix": published[:8], "label": "2025-Q1"}[form]
    with session_scope(db_url) as s:
        assert service.get_snapshot(s, ref).id == published


@pytest.mark.parametrize("ref", ["0" * 64, "00000000", "no-such-label", "abc"])
def test_an_unknown_snapshot_is_not_found(db_url: str, published: str, ref: str) -> None:
    with session_scope(db_url) as s, pytest.raises(NotFound):
        service.get_snapshot(s, ref)


def test_an_ambiguous_prefix_lists_the_candidates(session: Session) -> None:
    for sequence, tail in ((1, "1"), (2, "2")):
        session.add(
            Snapshot(id="abcdef01" + tail * 56, sequence=sequence, tree='{"classification":[]}')
        )
    session.flush()
    with pytest.raises(ValidationFailed, match="ambiguous") as caught:
        service.get_snapshot(session, "abcdef01")
    assert [e["value"] for e in caught.value.errors] == [
        "abcdef01" + "1" * 56,
        "abcdef01" + "2" * 56,
    ]
    assert service.get_snapshot(session, "abcdef012").sequence == 2


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE snapshot SET factor_count = factor_count + 1",
        "UPDATE snapshot SET label = 'renamed'",
        "UPDATE snapshot SET tree = '{}'",
        "UPDATE snapshot SET sealed = false",
        "UPDATE snapshot SET id = 'provisional-x'",
        "DELETE FROM snapshot",
        "DELETE FROM snapshot_factor",
        "UPDATE snapshot_factor SET revision_pk = revision_pk",
        "INSERT INTO snapshot_factor (snapshot_seq, factor_pk, revision_pk) "
        "SELECT s.sequence, f.id, f.current_revision_id FROM snapshot s, factor f "
        "WHERE f.factor_id = 'cnbrc:late'",
    ],
)
def test_the_database_refuses_to_change_a_published_snapshot(
    db_url: str, published: str, statement: str
) -> None:
    with session_scope(db_url) as s:
        make_revision(s, org="cnbrc", code="late")
    with pytest.raises(Immutable), session_scope(db_url) as s:
        s.execute(text(statement))
    with session_scope(db_url) as s:
        assert service.show(s, published)["factor_count"] == 4
        assert len(service.snapshot_factors(s, published)["items"]) == 4


def test_deprecation_changes_neither_content_nor_id(db_url: str, published: str, tmp_path) -> None:
    with session_scope(db_url) as s:
        document = service.deprecate(s, caller=SYSTEM, ref="2025-Q1", reason="grid factor fixed")
    assert (document["deprecated"], document["deprecated_reason"]) == (True, "grid factor fixed")
    with session_scope(db_url) as s:
        service.export(s, published, out=tmp_path / "after.parquet")
        again = service.publish(s, caller=SYSTEM)
    assert verify_file(tmp_path / "after.parquet")["ok"] is True
    assert (again["snapshot_id"], again["created"]) == (published, False)


def test_a_snapshot_is_deprecated_once_and_for_a_reason(db_url: str, published: str) -> None:
    with session_scope(db_url) as s, pytest.raises(ValidationFailed, match="reason"):
        service.deprecate(s, caller=SYSTEM, ref=published, reason="  ")
    with session_scope(db_url) as s:
        service.deprecate(s, caller=SYSTEM, ref=published, reason="superseded")
    with session_scope(db_url) as s, pytest.raises(Conflict, match="already deprecated"):
        service.deprecate(s, caller=SYSTEM, ref=published, reason="again")
    with session_scope(db_url) as s:
        assert service.show(s, published)["deprecated_reason"] == "superseded"


def test_the_frozen_tree_is_stored_with_the_snapshot(session: Session) -> None:
    seed(session)
    snapshot_id = service.publish(session, caller=SYSTEM)["snapshot_id"]
    tree = json.loads(session.get(Snapshot, snapshot_id).tree)
    grid = next(n for n in tree["classification"] if n["code"] == "energy.electricity.grid")
    js = next(g for g in tree["geographies"] if g["code"] == "CN-JS")
    assert grid["dimensions"] == ["electricity"]
    assert js["parent"] == "CN-EAST"


@pytest.mark.parametrize(
    ("sequence", "revision_of"),
    [(2, "first"), (1, "second")],
    ids=["unknown snapshot", "revision of another factor"],
)
def test_a_frozen_row_must_name_a_snapshot_and_a_revision_of_its_factor(
    db_url: str, sequence: int, revision_of: str
) -> None:
    with session_scope(db_url) as s:
        revisions = {code: make_revision(s, org="cnbrc", code=code) for code in ("first", "second")}
        s.add(Snapshot(id="e" * 64, sequence=1, tree="{}"))
    with pytest.raises(Conflict), session_scope(db_url) as s:
        s.execute(
            text(
                "INSERT INTO snapshot_factor (snapshot_seq, factor_pk, revision_pk) "
                "VALUES (:s, :f, :r)"
            ),
            {"s": sequence, "f": revisions["first"].factor_pk, "r": revisions[revision_of].id},
        )
