"""Desk fixtures: an app on the test database and browsers (TestClients) signed in by role."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app

TOKEN = re.compile(r'name="csrf_token" value="([^"]*)"')


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = TOKEN.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in(client: TestClient, key: str) -> TestClient:
    form = client.get("/desk/sign-in")
    response = client.post(
        "/desk/sign-in",
        data={"key": key, "csrf_token": csrf_of(form.text), "next": "/desk"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


@pytest.fixture
def browser(db_url: str) -> Iterator[Callable[..., TestClient]]:
    """A factory of fresh clients on this test's database (each has its own cookie jar)."""
    clients: list[TestClient] = []
    app = create_app(db_url)

    def make(key: str | None = None, *, https: bool = False) -> TestClient:
        client = TestClient(app, base_url="https://testserver" if https else "http://testserver")
        clients.append(client)
        return sign_in(client, key) if key else client

    yield make
    for client in clients:
        client.close()
