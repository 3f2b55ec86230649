"""Publish: content-addressed IDs, unchanged republish, what is frozen, concurrency."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select, text
from sqlmodel import Session

from factordb.db import session_scope
from factordb.errors import Conflict, PermissionDenied, ValidationFailed
from factordb.models import Snapshot, SnapshotFactor
from factordb.principals import SYSTEM
from snapshots import service
from snapshots.hashing import reference_id
from tests.conftest import fresh_database
from tests.factories import make_caller, make_revision
from tests.snapshots.conftest import validate
from tests.snapshots.content import seed


@pytest.fixture
def both_dialects(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[str]]:
    """A fresh SQLite and a fresh PostgreSQL database, side by side in one test."""
    with (
        fresh_database(request, "sqlite", tmp_path) as sqlite_url,
        fresh_database(request, "postgresql", tmp_path) as pg_url,
    ):
        yield [sqlite_url, pg_url]


def test_same_content_gives_the_same_id_on_sqlite_and_postgresql(
    both_dialects: list[str], tmp_path: Path
) -> None:
    ids = []
    for url in both_dialects:
        with session_scope(url) as s:
            seed(s)
        with session_scope(url) as s:
            ids.append(service.publish(s, caller=SYSTEM)["snapshot_id"])
    assert ids[0] == ids[1]
    with session_scope(both_dialects[1]) as s:
        service.export(s, ids[1], out=tmp_path / "pg.parquet")
    exported = pq.read_table(tmp_path / "pg.parquet")
    tree = exported.schema.metadata[b"factordb.tree"].decode("utf-8")
    assert reference_id(exported.to_pylist(), tree) == ids[0]


def test_the_id_depends_on_content_not_on_sequence_label_or_time(db_url: str) -> None:
    with session_scope(db_url) as s:
        seed(s)
    with session_scope(db_url) as s:
        first = service.publish(s, caller=SYSTEM, label="first")
    with session_scope(db_url) as s:
        make_revision(s, org="cnbrc", code="extra", value=1.0)
    with session_scope(db_url) as s:
        second = service.publish(s, caller=SYSTEM)
    assert second["snapshot_id"] != first["snapshot_id"]
    assert (second["sequence"], second["parent"]) == (2, first["snapshot_id"])


def test_publishing_unchanged_content_returns_the_existing_snapshot(session: Session) -> None:
    seed(session)
    first = service.publish(session, caller=SYSTEM, label="2025-Q1")
    again = service.publish(session, caller=SYSTEM, label="2025-Q2")
    assert first["created"] is True
    assert again == {**first, "created": False}
    assert session.execute(select(func.count()).select_from(Snapshot)).scalar_one() == 1
    validate(again, "publish.json")


def test_publish_freezes_only_each_live_factors_current_approved_revision(
    session: Session,
) -> None:
    seed(session)
    document = service.publish(session, caller=SYSTEM)
    frozen = service.snapshot_factors(session, document["snapshot_id"])["items"]
    assert {f["revision"] for f in frozen} == {
        "cnbrc:ncm811-cam@2",
        "cnbrc:grid-east@1",
        "cnbrc:odd-numbers@1",
        "oefdb:truck-40t@1",
    }
    assert document["factor_count"] == 4
    assert document["parent"] is None
    assert document["sequence"] == 1


def test_publish_gives_the_planner_statistics_for_the_new_rows(
    session: Session, dialect: str
) -> None:
    """Autovacuum may be late (or off): the first reads of a snapshot must be planned
    with its rows counted, not as an empty table."""
    if dialect != "postgresql":
        pytest.skip("SQLite plans from its indexes; PostgreSQL from ANALYZE statistics")
    seed(session)
    service.publish(session, caller=SYSTEM)
    estimated = session.execute(
        text("SELECT reltuples FROM pg_class WHERE relname = 'snapshot_factor'")
    ).scalar_one()
    assert estimated == 4


def test_publish_records_the_publisher_and_seals_the_snapshot(session: Session) -> None:
    seed(session)
    _, admin = make_caller(session, org="operator", role="admin")
    document = service.publish(session, caller=admin)
    shown = service.show(session, document["snapshot_id"])
    assert shown["publisher"] == admin.actor
    assert shown["sealed"] is True
    validate(shown, "snapshot.json")


def test_an_empty_registry_has_nothing_to_publish(session: Session) -> None:
    make_revision(session, code="only-pending", status="submitted")
    with pytest.raises(Conflict, match="nothing to publish"):
        service.publish(session, caller=SYSTEM)


def test_a_label_names_one_snapshot_only(session: Session) -> None:
    seed(session)
    service.publish(session, caller=SYSTEM, label="2025-Q1")
    make_revision(session, code="new-one")
    with pytest.raises(Conflict, match="already names snapshot"):
        service.publish(session, caller=SYSTEM, label="2025-Q1")


@pytest.mark.parametrize(
    "label", ["", "deadbeef", "0123456789abcdef", "has space", "-x", "a" * 129]
)
def test_a_label_that_is_empty_odd_or_reads_as_an_id_prefix_is_refused(
    session: Session, label: str
) -> None:
    seed(session)
    with pytest.raises(ValidationFailed, match="invalid label"):
        service.publish(session, caller=SYSTEM, label=label)
    assert session.execute(select(func.count()).select_from(Snapshot)).scalar_one() == 0


def test_only_an_admin_may_publish(session: Session) -> None:
    seed(session)
    _, provider = make_caller(session, org="cnbrc", role="provider")
    with pytest.raises(PermissionDenied):
        service.publish(session, caller=provider)


def test_concurrent_publishers_produce_one_snapshot(db_url: str) -> None:
    with session_scope(db_url) as s:
        seed(s)
    results: list[dict] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def publish() -> None:
        try:
            start.wait()
            with session_scope(db_url) as s:
                results.append(service.publish(s, caller=SYSTEM))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=publish) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len({r["snapshot_id"] for r in results}) == 1
    assert sorted(r["created"] for r in results) == [False, False, False, True]
    with session_scope(db_url) as s:
        assert s.execute(select(func.count()).select_from(Snapshot)).scalar_one() == 1
        frozen = s.execute(select(func.count()).select_from(SnapshotFactor)).scalar_one()
        assert frozen == 4


def test_content_equal_to_an_older_snapshot_returns_that_snapshot(
    db_url: str, snapshot_cache: Path
) -> None:
    with session_scope(db_url) as s:
        seed(s)
        first_revision = make_revision(s, org="cnbrc", code="reverted", value=1.0)
    with session_scope(db_url) as s:
        first = service.publish(s, caller=SYSTEM)
    with session_scope(db_url) as s:
        make_revision(s, org="cnbrc", code="reverted", value=2.0)
    with session_scope(db_url) as s:
        second = service.publish(s, caller=SYSTEM)
    with session_scope(db_url) as s:
        s.execute(
            text("UPDATE factor SET current_revision_id = :r WHERE id = :f"),
            {"r": first_revision.id, "f": first_revision.factor_pk},
        )
    with session_scope(db_url) as s:
        again = service.publish(s, caller=SYSTEM)
    assert second["created"] is True
    assert again == {**first, "created": False}
    assert sorted(p.name for p in snapshot_cache.iterdir()) == sorted(
        f"{document['snapshot_id']}.parquet" for document in (first, second)
    )
