"""The Command line contract, driven as a user's script drives it: the installed
console script as a subprocess, on a fresh SQLite file and a fresh PostgreSQL database.

With --json, stdout is exactly one JSON document valid against schemas/; progress goes
to stderr; every error is one line on stderr with a non-zero exit and no traceback.
"""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.console import Result, run

DEMO = Path(str(resources.files("factordb").joinpath("demo")))
EXTERNAL = Path(__file__).resolve().parents[1] / "data" / "external"


def schema(name: str) -> Draft202012Validator:
    text = resources.files("schemas").joinpath(f"{name}.json").read_text(encoding="utf-8")
    return Draft202012Validator(json.loads(text))


def document(result: Result, name: str) -> Any:
    """The one JSON document on stdout, validated against schemas/<name>.json."""
    assert result.stdout.count("\n") == 1, result.stdout[:500]
    value = json.loads(result.stdout)
    errors = sorted(schema(name).iter_errors(value), key=str)
    assert errors == [], errors[:3]
    return value


def one_error_line(result: Result, code: int = 1) -> str:
    assert result.code == code, (result.code, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ")
    return lines[0]


class Cli:
    """The console script bound to one database."""

    def __init__(self, db_url: str, cwd: Path) -> None:
        self.db_url, self.cwd = db_url, cwd

    def __call__(self, *args: str) -> Result:
        return run(*args, "--database-url", self.db_url, cwd=self.cwd)

    def key(self, org: str, role: str, *specialties: str) -> str:
        extra = [a for s in specialties for a in ("--specialty", s)]
        result = self("key", "create", "--org", org, "--role", role, *extra)
        assert result.code == 0, result.stderr
        assert result.stdout.count("\n") == 1
        return result.stdout.strip()


@pytest.fixture
def cli(db_url: str, tmp_path: Path) -> Cli:
    return Cli(db_url, tmp_path)


def test_the_whole_contract_flow(cli: Cli, tmp_path: Path) -> None:
    for slug, kind in [
        ("cec-grid", "provider"),
        ("cnbrc", "provider"),
        ("pool", "operator"),
        ("cells", "manufacturer"),
        ("ops", "operator"),
    ]:
        assert cli("org", "add", slug, "--name", slug.upper(), "--kind", kind).code == 0
    experts = [
        cli.key("pool", "expert", "energy", "material", "transport", "recycling") for _ in range(2)
    ]
    provider = cli.key("cnbrc", "provider")
    accountant = cli.key("cells", "accountant")
    assert provider.startswith("fdb_") and accountant != provider

    rejected = cli("ingest", str(DEMO / "cnbrc_batch1_with_error.csv"), "--org", "cnbrc", "--json")
    assert rejected.code == 1
    report = document(rejected, "ingest-report")
    assert report["status"] == "rejected"
    assert {(e["line"], e["column"]) for e in report["errors"]} == {(15, "unit")}

    batches = {}
    for org, name in [("cec-grid", "cec-grid_batch1.csv"), ("cnbrc", "cnbrc_batch1.csv")]:
        result = cli("ingest", str(DEMO / name), "--org", org, "--json")
        assert result.code == 0, result.stderr
        batches[org] = document(result, "ingest-report")
        assert batches[org]["status"] == "accepted"
    again = cli("ingest", str(DEMO / "cnbrc_batch1.csv"), "--org", "cnbrc", "--json")
    assert document(again, "ingest-report")["status"] == "duplicate"

    queue = document(cli("review", "list", "--key", experts[0], "--json"), "review-list")
    assert len(queue["items"]) == 42
    first = queue["items"][0]["revision"]
    one = cli("review", "approve", first, "--key", experts[0], "--comment", "ok", "--json")
    assert document(one, "review-decisions")["decided"][0]["revision"] == first
    for expert in experts:
        for batch in batches.values():
            result = cli(
                "review", "approve", "--batch", batch["batch_id"], "--key", expert, "--json"
            )
            assert result.code == 0, result.stderr
            document(result, "review-decisions")

    first_publish = document(cli("publish", "--label", "2025-q1", "--json"), "publish")
    assert first_publish["created"] is True and first_publish["factor_count"] == 42
    unchanged = document(cli("publish", "--json"), "publish")
    assert unchanged["created"] is False
    assert unchanged["snapshot_id"] == first_publish["snapshot_id"]

    revised = cli("ingest", str(DEMO / "cnbrc_batch2_revisions.csv"), "--org", "cnbrc", "--json")
    revision_batch = document(revised, "ingest-report")["batch_id"]
    for expert in experts:
        assert cli("review", "approve", "--batch", revision_batch, "--key", expert).code == 0
    second = document(cli("publish", "--label", "2025-q2", "--json"), "publish")
    assert second["parent"] == first_publish["snapshot_id"]

    listing = document(cli("snapshot", "list", "--json"), "snapshot-list")
    assert [i["label"] for i in listing["items"]] == ["2025-q1", "2025-q2"]
    prefix = first_publish["snapshot_id"][:8]
    shown = document(cli("snapshot", "show", prefix, "--json"), "snapshot")
    assert shown["snapshot_id"] == first_publish["snapshot_id"]
    diff = document(cli("snapshot", "diff", "2025-q1", "2025-q2", "--json"), "snapshot-diff")
    assert [c["factor"] for c in diff["changes"]] == ["cnbrc:graphite-natural-cn"]

    export = tmp_path / "q1.parquet"
    assert cli("snapshot", "export", "2025-q1", "--out", str(export)).code == 0
    verified = document(run("snapshot", "verify", str(export), "--json"), "snapshot-verify")
    assert verified == {**verified, "ok": True, "snapshot_id": first_publish["snapshot_id"]}

    calc = cli("calc", str(DEMO / "pack_ncm811.json"), "--snapshot", str(export), "--json")
    output = document(calc, "calc-output")
    assert output["snapshot_id"] == first_publish["snapshot_id"]
    by_label = document(
        cli("calc", str(DEMO / "pack_lfp.json"), "--snapshot", "2025-q1", "--json"), "calc-output"
    )
    assert by_label["packs"][0]["total_kg_co2e"] > 0

    audit = document(cli("audit", "verify", "--json"), "audit-verify")
    assert audit["ok"] is True and audit["events"] > 0


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        (
            ["org", "add", "Bad Slug", "--name", "x", "--kind", "provider"],
            "invalid organisation slug",
            1,
        ),
        (["key", "create", "--org", "nobody", "--role", "provider"], "no organisation 'nobody'", 1),
        (["ingest", "/no/such/file.csv", "--org", "cnbrc"], "does not exist", 2),
        (["review", "list", "--key", "fdb_wrong"], "unknown or revoked API key", 1),
        (["snapshot", "show", "deadbeef"], "deadbeef", 1),
        (["snapshot", "diff", "nope-a", "nope-b"], "nope-a", 1),
        (["calc", str(DEMO / "pack_lfp.json"), "--snapshot", "unknown-label"], "unknown-label", 1),
        (["citations", "--key", "fdb_wrong"], "unknown or revoked API key", 1),
    ],
)
def test_errors_are_one_line_without_traceback(
    cli: Cli, args: list[str], message: str, code: int
) -> None:
    assert message in one_error_line(cli(*args), code=code)


def test_snapshot_verify_refuses_a_tampered_file(tmp_path: Path) -> None:
    fake = tmp_path / "fake.parquet"
    fake.write_bytes(b"not parquet at all")
    assert "fake.parquet" in one_error_line(run("snapshot", "verify", str(fake)))


def test_usage_errors_exit_2(cli: Cli) -> None:
    one_error_line(cli("review", "approve"), code=2)


def test_unmigrated_database_exits_3(tmp_path: Path) -> None:
    result = run("snapshot", "list", "--database-url", f"sqlite:///{tmp_path / 'absent.sqlite3'}")
    assert "factordb db upgrade" in one_error_line(result, code=3)


@pytest.mark.parametrize(
    ("dataset", "file"),
    [
        ("oefdb", "oefdb_OpenEmissionFactorsDB_29b66ea_2021-12.csv"),
        ("epa", "epa_SupplyChainGHGEmissionFactors_v1.2_NAICS_CO2e_USD2021.csv"),
    ],
)
def test_import_public_datasets_prints_the_report(
    cli: Cli, tmp_path: Path, dataset: str, file: str
) -> None:
    assert cli("org", "add", "public", "--name", "Public", "--kind", "provider").code == 0
    local = tmp_path / file
    shutil.copyfile(EXTERNAL / file, local)
    result = cli("import", dataset, str(local), "--org", "public", "--json")
    assert result.code == 0, result.stderr
    report = document(result, "ingest-report")
    assert report["status"] == "accepted"
    assert report["new_factors"] > 100
