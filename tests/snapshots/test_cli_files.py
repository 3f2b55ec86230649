"""`factordb snapshot export|verify|deprecate` through the installed console script.

(Apart from test_cli_documents.py so the two pytest workers share the subprocesses.)
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from factordb.db import session_scope
from factordb.principals import SYSTEM
from snapshots import service
from tests.console import run
from tests.snapshots.conftest import validate
from tests.snapshots.content import seed


def _published(db_url: str, label: str = "v1") -> str:
    with session_scope(db_url) as s:
        seed(s)
    with session_scope(db_url) as s:
        return service.publish(s, caller=SYSTEM, label=label)["snapshot_id"]


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
