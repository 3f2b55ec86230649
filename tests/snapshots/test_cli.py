"""`factordb publish` and `factordb snapshot …` through the installed console script."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from factordb.db import session_scope
from factordb.principals import SYSTEM
from snapshots import service
from tests.console import run
from tests.factories import make_revision
from tests.snapshots.conftest import validate
from tests.snapshots.content import seed


def _published(db_url: str, label: str = "v1") -> str:
    with session_scope(db_url) as s:
        seed(s)
    with session_scope(db_url) as s:
        return service.publish(s, caller=SYSTEM, label=label)["snapshot_id"]


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


def test_export_verifies_without_a_database_and_tampering_exits_1(
    db_url: str, tmp_path: Path
) -> None:
    snapshot_id = _published(db_url)
    out = tmp_path / "pinned.parquet"
    exported = run("snapshot", "export", snapshot_id[:8], "--out", str(out), db_url=db_url)
    assert exported.code == 0, exported.stderr
    nowhere = f"sqlite:///{tmp_path / 'absent.sqlite3'}"
    verified = run("snapshot", "verify", str(out), "--json", "--database-url", nowhere)
    assert verified.code == 0, verified.stderr
    validate(verified.json(), "snapshot-verify.json")
    assert (verified.json()["computed"], verified.json()["ok"]) == (snapshot_id, True)
    assert not (tmp_path / "absent.sqlite3").exists()
    pq.write_table(pq.read_table(out).slice(1), tmp_path / "short.parquet")
    tampered = run("snapshot", "verify", str(tmp_path / "short.parquet"), "--json")
    assert tampered.code == 1
    assert (tampered.json()["ok"], tampered.json()["rows"]) == (False, 3)
    assert "mismatch" in tampered.stderr


def test_a_csv_export_is_refused_by_verify_in_one_line(db_url: str, tmp_path: Path) -> None:
    _published(db_url)
    out = tmp_path / "people.csv"
    exported = run("snapshot", "export", "v1", "--out", str(out), "--format", "csv", db_url=db_url)
    assert exported.code == 0, exported.stderr
    result = run("snapshot", "verify", str(out))
    assert (result.code, result.stderr.count("\n")) == (1, 1)
    assert "CSV export" in result.stderr


def test_deprecate_prints_the_snapshot_and_errors_are_one_line(db_url: str) -> None:
    _published(db_url)
    done = run("snapshot", "deprecate", "v1", "--reason", "superseded", "--json", db_url=db_url)
    assert done.code == 0, done.stderr
    validate(done.json(), "snapshot.json")
    assert done.json()["deprecated"] is True
    unknown = run("snapshot", "show", "no-such-label", db_url=db_url)
    assert (unknown.code, unknown.stderr.count("\n")) == (1, 1)
    assert "no snapshot labelled 'no-such-label'" in unknown.stderr
