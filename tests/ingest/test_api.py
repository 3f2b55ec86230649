"""`POST /batches` and `GET /batches/{batch_id}`: the same service and report over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator

from api.app import create_app
from api.errors import PROBLEM
from factordb.db import session_scope
from tests.factories import make_caller
from tests.ingest.conftest import counts, csv_text, row

REPORT = Draft202012Validator(json.loads(Path("schemas/ingest-report.json").read_text()))
PROBLEM_SCHEMA = Draft202012Validator(json.loads(Path("schemas/problem.json").read_text()))
GOOD = csv_text([row(), row(factor_code="two", value="9.5")]).encode()
BAD = csv_text([row(), row(factor_code="two", value="-9.5")]).encode()


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(db_url), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def keys(db_url: str) -> dict[str, dict[str, str]]:
    with session_scope(db_url) as s:
        made = {
            "provider": make_caller(s, org="cnbrc")[0],
            "rival": make_caller(s, org="rival")[0],
            "admin": make_caller(s, org="operator", role="admin")[0],
            "expert": make_caller(s, org="pool", role="expert")[0],
        }
    return {name: {"Authorization": f"Bearer {key}"} for name, key in made.items()}


def upload(client: TestClient, headers: dict[str, str], data: bytes) -> object:
    return client.post(
        "/batches", headers=headers, files={"file": ("factors.csv", data, "text/csv")}
    )


def test_an_upload_answers_201_with_the_report_and_its_provider_reads_it_back(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    created = upload(client, keys["provider"], GOOD)
    again = upload(client, keys["provider"], GOOD)
    report = created.json()
    path = f"/batches/{report['batch_id']}"
    assert created.status_code == 201, created.text
    assert (report["status"], report["new_factors"], report["filename"]) == (
        "accepted",
        2,
        "factors.csv",
    )
    assert list(REPORT.iter_errors(report)) == []
    assert (again.status_code, again.json()["status"]) == (200, "duplicate")
    assert client.get(path, headers=keys["provider"]).json() == report
    assert client.get(path, headers=keys["admin"]).json() == report
    assert client.get(path, headers=keys["rival"]).status_code == 404
    assert client.get(path, headers=keys["expert"]).status_code == 403


def test_a_rejected_upload_is_a_422_problem_carrying_the_report(
    db_url: str, client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    response = upload(client, keys["provider"], BAD)
    body = response.json()
    stored = client.get(f"/batches/{body['batch_id']}", headers=keys["provider"]).json()
    with session_scope(db_url) as s:
        after = counts(s)
    assert (response.status_code, response.headers["content-type"]) == (422, PROBLEM)
    assert (body["type"], body["status"], body["batch_status"]) == (
        "/problems/batch-rejected",
        422,
        "rejected",
    )
    assert body["errors"] == [
        {
            "line": 3,
            "column": "value",
            "value": "-9.5",
            "reason": stored["errors"][0]["reason"],
            "field": "value",
        }
    ]
    assert (body["rows"], body["new_revisions"], stored["status"]) == (2, 0, "rejected")
    assert (after["factors"], after["revisions"], after["batches"]) == (0, 0, 1)
    assert list(PROBLEM_SCHEMA.iter_errors(body)) == []


@pytest.mark.parametrize(
    ("who", "files", "status"),
    [
        ("expert", {"file": ("f.csv", GOOD, "text/csv")}, 403),
        ("provider", None, 422),
        (None, {"file": ("f.csv", GOOD, "text/csv")}, 401),
    ],
)
def test_only_a_provider_uploads_and_the_file_field_is_required(
    client: TestClient,
    keys: dict[str, dict[str, str]],
    who: str | None,
    files: dict[str, tuple[str, bytes, str]] | None,
    status: int,
) -> None:
    response = client.post("/batches", headers=keys[who] if who else {}, files=files)
    assert (response.status_code, response.headers["content-type"]) == (status, PROBLEM)
