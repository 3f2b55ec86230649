"""Two uploads at once end consistent: revision numbers without gaps or duplicates."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from factordb.db import session_scope
from ingest.service import ingest_file, operator_caller
from tests.factories import make_org
from tests.ingest.conftest import revisions, row


def upload_together(db_url: str, paths: list[Path]) -> list[dict[str, Any]]:
    """Ingest every file in its own thread and transaction, all starting at once."""
    barrier = threading.Barrier(len(paths))
    reports: list[dict[str, Any]] = []
    failures: list[BaseException] = []

    def upload(path: Path) -> None:
        try:
            barrier.wait()
            with session_scope(db_url) as s:
                reports.append(ingest_file(s, path=path, caller=operator_caller(s, org="cnbrc")))
        except BaseException as exc:  # re-raised in the test's thread below
            failures.append(exc)

    threads = [threading.Thread(target=upload, args=(p,)) for p in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    return reports


def test_overlapping_uploads_at_once_number_revisions_one_two(
    db_url: str, write: Callable[..., Path]
) -> None:
    with session_scope(db_url) as s:
        make_org(s, "cnbrc")
    first = [row(factor_code=f"f-{i}", value=str(10 + i)) for i in range(0, 8)]
    second = [row(factor_code=f"f-{i}", value=str(20 + i)) for i in range(4, 12)]
    reports = upload_together(
        db_url, [write(first, name="first.csv"), write(second, name="second.csv")]
    )
    with session_scope(db_url) as s:
        numbers = {f"f-{i}": [r.number for r in revisions(s, f"cnbrc:f-{i}")] for i in range(12)}
        overlap = [[r.status for r in revisions(s, f"cnbrc:f-{i}")] for i in range(4, 8)]
    assert sorted(r["status"] for r in reports) == ["accepted", "accepted"]
    assert sorted(r["new_factors"] for r in reports) == [4, 8]
    assert {code: n for code, n in numbers.items() if n != [1]} == {
        f"f-{i}": [1, 2] for i in range(4, 8)
    }
    assert overlap == [["superseded", "submitted"]] * 4


def test_the_same_file_twice_at_once_is_one_batch(db_url: str, write: Callable[..., Path]) -> None:
    with session_scope(db_url) as s:
        make_org(s, "cnbrc")
    path = write([row(), row(factor_code="b")])
    reports = upload_together(db_url, [path, path])
    with session_scope(db_url) as s:
        assert [r.number for r in revisions(s, "cnbrc:b")] == [1]
    assert sorted(r["status"] for r in reports) == ["accepted", "duplicate"]
    assert reports[0]["batch_id"] == reports[1]["batch_id"]
