"""An app on a fresh database per test, and one key per role in known organisations."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from factordb.db import session_scope
from tests.factories import make_caller

ROLES = ("admin", "provider", "expert", "accountant", "verifier")


@dataclass(frozen=True)
class Keys:
    """`by_role[role]` is a key of that role; `rival` is a provider key of another organisation."""

    by_role: dict[str, str]
    rival: str

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
