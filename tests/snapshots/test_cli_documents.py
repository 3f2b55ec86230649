"""`factordb publish`, `snapshot list|show|diff` through the installed console script."""

from __future__ import annotations

from factordb.db import session_scope
from tests.console import run
from tests.factories import make_revision
from tests.snapshots.conftest import validate
from tests.snapshots.content import seed


def test_publish_list_show_and_diff_print_their_documents(db_url: str) -> None:
    with session_scope(db_url) as s:
        seed(s)
    first = run("publish", "--label", "2025-Q1", "--json", db_url=db_url)
    assert first.code == 0, first.stderr
    validate(first.json(), "publish.json")
    with session_scope(db_url) as s:
        make_revision(s, org="cnbrc", code="ncm811-cam", value=27900.0)
    second = run("publish", db_url=db_url)
    assert second.code == 0, second.stderr
    second_id = second.stdout.strip()
    assert len(second_id) == 64
    listed = run("snapshot", "list", "--json", db_url=db_url)
    validate(listed.json(), "snapshot-list.json")
    assert [i["sequence"] for i in listed.json()["items"]] == [1, 2]
    shown = run("snapshot", "show", second_id[:10], "--json", db_url=db_url)
    validate(shown.json(), "snapshot.json")
    assert shown.json()["parent"] == first.json()["snapshot_id"]
    diffed = run("snapshot", "diff", "2025-Q1", second_id, "--json", db_url=db_url)
    validate(diffed.json(), "snapshot-diff.json")
    assert diffed.json()["summary"]["suspected_unit_error"] == 1
    table = run("snapshot", "diff", "2025-Q1", second_id, db_url=db_url)
    assert "suspected_unit_error" in table.stdout
    assert "cnbrc:ncm811-cam" in table.stdout
