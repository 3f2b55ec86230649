"""`factordb ingest` and `factordb import` as a user's script runs them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from jsonschema import Draft202012Validator

from factordb.db import session_scope
from tests.console import run
from tests.factories import make_org
from tests.ingest.conftest import row

SCHEMA = Draft202012Validator(json.loads(Path("schemas/ingest-report.json").read_text()))


def test_ingest_prints_the_report_as_json_and_a_rejected_batch_exits_1(
    db_url: str, write: Callable[..., Path]
) -> None:
    with session_scope(db_url) as s:
        make_org(s, "cnbrc")
    good = write([row(), row(factor_code="two", value="9.5")], name="good.csv")
    bad = write([row(colour="red")], name="bad.csv")
    accepted = run("ingest", str(good), "--org", "cnbrc", "--json", db_url=db_url)
    rejected = run("ingest", str(bad), "--org", "cnbrc", db_url=db_url)
    rejected_json = run("ingest", str(bad), "--org", "cnbrc", "--json", db_url=db_url)
    assert (accepted.code, accepted.stderr) == (0, "")
    assert (accepted.json()["status"], accepted.json()["new_factors"]) == ("accepted", 2)
    assert list(SCHEMA.iter_errors(accepted.json())) == []
    assert rejected.code == 1
    assert "unknown column" in rejected.stdout
    assert "colour" in rejected.stdout
    assert rejected.stderr.count("\n") == 1
    assert rejected.stderr.startswith("error: batch b-")
    assert (rejected_json.code, rejected_json.json()["status"]) == (1, "rejected")
    assert rejected_json.json()["errors"] == [
        {"line": 1, "column": "colour", "value": "colour", "reason": "unknown column"}
    ]


def test_an_unknown_organisation_or_dataset_is_one_error_line(
    db_url: str, write: Callable[..., Path]
) -> None:
    path = write([row()])
    unknown_org = run("ingest", str(path), "--org", "nobody", db_url=db_url)
    unknown_kind = run("import", "ecoinvent", str(path), "--org", "nobody", db_url=db_url)
    assert (unknown_org.code, unknown_org.stderr) == (1, "error: no organisation 'nobody'\n")
    assert unknown_kind.code == 2
    assert unknown_kind.stderr.count("\n") == 1
