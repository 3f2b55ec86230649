"""Operator commands through the installed console script."""

from __future__ import annotations

from pathlib import Path

from tests.console import run


def test_db_upgrade_creates_a_fresh_sqlite_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    result = run("db", "upgrade", "--database-url", url)
    assert result.code == 0, result.stderr
    assert "0002" in result.stderr
    assert (tmp_path / "fresh.sqlite3").exists()


def test_key_create_prints_the_key_alone(db_url: str) -> None:
    assert (
        run("org", "add", "cnbrc", "--name", "CNBRC", "--kind", "provider", db_url=db_url).code == 0
    )
    result = run("key", "create", "--org", "cnbrc", "--role", "provider", db_url=db_url)
    assert result.code == 0, result.stderr
    assert result.stdout.startswith("fdb_")
    assert len(result.stdout.strip().splitlines()) == 1


def test_unknown_org_kind_is_one_error_line(db_url: str) -> None:
    result = run("org", "add", "x", "--name", "X", "--kind", "bank", db_url=db_url)
    assert result.code == 1
    assert result.stderr.strip().count("\n") == 0
    assert "unknown organisation kind 'bank'" in result.stderr
    assert "Traceback" not in result.stderr


def test_expert_key_without_specialty_is_refused(db_url: str) -> None:
    run("org", "add", "pool", "--name", "Pool", "--kind", "verifier", db_url=db_url)
    result = run("key", "create", "--org", "pool", "--role", "expert", db_url=db_url)
    assert result.code == 1
    assert "--specialty" in result.stderr


def test_command_on_unmigrated_database_exits_3(tmp_path: Path) -> None:
    result = run(
        "org",
        "add",
        "x",
        "--name",
        "X",
        "--kind",
        "provider",
        "--database-url",
        f"sqlite:///{tmp_path / 'none.sqlite3'}",
    )
    assert result.code == 3
    assert "factordb db upgrade" in result.stderr


def test_audit_verify_reports_the_chain(db_url: str) -> None:
    run("org", "add", "cnbrc", "--name", "CNBRC", "--kind", "provider", db_url=db_url)
    result = run("audit", "verify", "--json", db_url=db_url)
    assert result.code == 0, result.stderr
    assert result.json() == {"ok": True, "events": 1, "first_bad": None}


def test_usage_error_exits_2_without_traceback() -> None:
    result = run("org", "add")
    assert result.code == 2
    assert "Traceback" not in result.stderr
