"""An app on a fresh database per test, and one key per role in known organisations."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.openapi import api_routes
from factordb.db import session_scope
from tests.conftest import fresh_database
from tests.factories import make_caller, make_revision

ROLES = ("admin", "provider", "expert", "accountant", "verifier")


@dataclass(frozen=True)
class Keys:
    """`by_role[role]` is a key of that role; `rival` is a provider key of another organisation."""

    by_role: dict[str, str]
    rival: str
    rival_batch: str = "no-batch-route"

    def header(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.by_role[role]}"}


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(db_url), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def keys(db_url: str) -> Keys:
    orgs = {
        "admin": "operator",
        "provider": "cnbrc",
        "expert": "pool",
        "accountant": "catl",
        "verifier": "tuv",
    }
    with session_scope(db_url) as s:
        by_role = {role: make_caller(s, org=orgs[role], role=role)[0] for role in ROLES}
        rival = make_caller(s, org="rival", role="provider")[0]
    return Keys(by_role=by_role, rival=rival)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def matrix_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One database per dialect for the whole matrix; its requests change nothing they read."""
    with fresh_database(request, request.param, tmp_path_factory.mktemp("matrix")) as url:
        yield url


@pytest.fixture(scope="module")
def world(matrix_url: str) -> tuple[TestClient, Keys]:
    orgs = {
        "admin": "operator",
        "provider": "cnbrc",
        "expert": "pool",
        "accountant": "catl",
        "verifier": "tuv",
    }
    with session_scope(matrix_url) as s:
        by_role = {role: make_caller(s, org=orgs[role], role=role)[0] for role in ROLES}
        rival = make_caller(s, org="rival", role="provider")[0]
        make_revision(s, org="cnbrc", code="ncm811-cam")
        make_revision(s, org="rival", code="secret", status="submitted")
    client = TestClient(create_app(matrix_url), raise_server_exceptions=False)
    return client, Keys(by_role=by_role, rival=rival, rival_batch=upload_batch(client, rival))


RIVAL_CSV = (
    "factor_code,name,classification,value,unit,geography,reference_year,source\n"
    "rival-grid,Rival grid,energy.electricity.grid,0.58,kgCO2e/kWh,CN-EAST,2023,Rival data\n"
)


def upload_batch(client: TestClient, key: str) -> str:
    """A batch of `key`'s organisation, once the batches router is mounted."""
    served = {
        (m, r.path_format)
        for r in api_routes(client.app)
        for m in r.methods  # type: ignore[arg-type]
    }
    if ("POST", "/batches") not in served:
        return "no-batch-route"
    response = client.post(
        "/batches",
        files={"file": ("rival.csv", RIVAL_CSV.encode(), "text/csv")},
        headers=bearer(key),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["batch_id"])
