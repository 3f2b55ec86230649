"""The authorisation matrix: every route × every role, and own versus other organisation.

`RULES` is the specification (DESIGN.md, "HTTP API"); the routes come from the app, so a
new route without a rule here fails `test_every_route_has_a_rule`.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.errors import PROBLEM
from api.openapi import api_routes
from tests.api.conftest import ROLES, Keys, bearer

PUBLIC = "public"  # no key needed
ANY = frozenset(ROLES)  # any valid key
RULES: dict[tuple[str, str], str | frozenset[str]] = {
    ("GET", "/health"): PUBLIC,
    ("GET", "/schemas"): PUBLIC,
    ("GET", "/schemas/{}.json"): PUBLIC,
    ("GET", "/classification"): ANY,
    ("GET", "/geographies"): ANY,
    ("GET", "/factors"): ANY,
    ("GET", "/factors/{}"): ANY,
    ("POST", "/batches"): frozenset({"provider"}),
    ("GET", "/batches/{}"): frozenset({"provider", "admin"}),
    ("GET", "/submissions"): frozenset({"provider"}),
    ("POST", "/revisions/{}/withdraw"): frozenset({"provider"}),
    ("GET", "/revisions/{}"): ANY,
    ("GET", "/reviews/queue"): frozenset({"expert"}),
    ("POST", "/reviews/{}/decisions"): frozenset({"expert"}),
    ("POST", "/batches/{}/decisions"): frozenset({"expert"}),
    ("POST", "/snapshots"): frozenset({"admin"}),
    ("GET", "/snapshots"): ANY,
    ("GET", "/snapshots/{}"): ANY,
    ("GET", "/snapshots/{}/factors"): ANY,
    ("GET", "/snapshots/{}/factors/{}"): ANY,
    ("GET", "/snapshots/{}/diff/{}"): ANY,
    ("GET", "/snapshots/{}/export"): ANY,
    ("POST", "/citations"): frozenset({"accountant"}),
    ("GET", "/citations"): frozenset({"provider", "accountant", "verifier", "admin"}),
    ("GET", "/citations/impact"): frozenset({"provider", "accountant"}),
    ("GET", "/citations/errata"): frozenset({"accountant"}),
}
# A private resource of the organisation "rival": (method, path) → what its owner may do.
PRIVATE = [
    ("GET", "/batches/{rival_batch}"),
    ("GET", "/factors/rival:secret"),
    ("GET", "/revisions/rival:secret@1"),
    ("POST", "/revisions/rival:secret@1/withdraw"),
]
# Required query parameters, so that the request is well-formed: a key that is present is
# looked up after the parameters are judged (`api.deps.Reader`).
QUERIES: dict[tuple[str, str], dict[str, str]] = {
    ("GET", "/citations/impact"): {"from": "2025-Q1", "to": "2025-Q2"},
}
SAMPLES = {
    "factor_id": "cnbrc:ncm811-cam",
    "revision": "cnbrc:ncm811-cam@1",
    "name": "problem",
}
APP = create_app("sqlite:///:memory:")


def shape(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def concrete(path: str) -> str:
    return re.sub(r"\{([^}]*)\}", lambda m: SAMPLES.get(m.group(1), "0" * 64), path)


ROUTES = sorted(
    (method, route.path_format)
    for route in api_routes(APP)
    if route.include_in_schema
    for method in route.methods
    if method != "HEAD"
)
GUARDED = [(m, p) for m, p in ROUTES if RULES.get((m, shape(p))) not in (PUBLIC, None)]


def rule(method: str, path: str) -> str | frozenset[str]:
    return RULES[(method, shape(path))]


def admitted_role(method: str, path: str) -> str:
    """A role the route admits: admin, else accountant, else the one it is for."""
    allowed = set(ROLES) if rule(method, path) == PUBLIC else set(rule(method, path))
    return next(r for r in ("admin", "accountant", *sorted(allowed)) if r in allowed)


def call(client: TestClient, method: str, path: str, headers: dict[str, str]) -> Any:
    body = {"json": {}} if method == "POST" else {}
    params = QUERIES.get((method, shape(path)), {})
    return client.request(method, concrete(path), headers=headers, params=params, **body)


def assert_problem(response: Any, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert {"type", "title", "status", "detail"} <= response.json().keys()
    assert response.json()["status"] == status


def test_every_route_has_a_rule() -> None:
    assert [r for r in ROUTES if (r[0], shape(r[1])) not in RULES] == []


@pytest.mark.parametrize(("method", "path"), GUARDED)
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer fdb_not-a-key", "Bearer ", "Basic dXNlcjpwYXNz", "bearer", "Token x y z"],
)
def test_missing_or_bad_key_is_a_401_problem(
    world: tuple[TestClient, Keys], method: str, path: str, authorization: str | None
) -> None:
    client, _ = world
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = call(client, method, path, headers)
    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_missing_key_is_a_401_problem_even_with_malformed_parameters(
    world: tuple[TestClient, Keys],
) -> None:
    client, _ = world
    assert_problem(client.get("/citations/impact"), 401)


def test_a_present_key_is_looked_up_after_the_parameters_are_judged(
    world: tuple[TestClient, Keys],
) -> None:
    """An unknown key with malformed parameters is told about the parameters first: the
    key costs a statement, the parameters none."""
    client, _ = world
    response = client.get("/citations/impact", headers={"Authorization": "Bearer fdb_nope"})
    assert_problem(response, 422)


@pytest.mark.parametrize(("method", "path"), GUARDED)
@pytest.mark.parametrize("role", ROLES)
def test_each_role_is_admitted_or_refused_with_a_403_problem(
    world: tuple[TestClient, Keys], method: str, path: str, role: str
) -> None:
    client, keys = world
    response = call(client, method, path, keys.header(role))
    admitted = role in rule(method, path)
    refused = response.status_code == 403
    assert refused != admitted, response.text
    assert response.status_code not in (401, 500)


@pytest.mark.parametrize(("method", "path"), [r for r in ROUTES if rule(*r) == PUBLIC])
def test_public_routes_answer_without_a_key(
    world: tuple[TestClient, Keys], method: str, path: str
) -> None:
    client, _ = world
    assert call(client, method, path, {}).status_code == 200


def routed(method: str, path: str) -> bool:
    patterns = [re.sub(r"\{[^}]*\}", "[^/]+", p) for m, p in ROUTES if m == method]
    return any(re.fullmatch(pattern, path) for pattern in patterns)


@pytest.mark.parametrize(("method", "path"), [p for p in PRIVATE if routed(*p)])
def test_another_organisations_private_resource_is_a_404_problem(
    world: tuple[TestClient, Keys], method: str, path: str
) -> None:
    client, keys = world
    resource = path.format(rival_batch=keys.rival_batch)
    assert_problem(call(client, method, resource, keys.header("provider")), 404)


@pytest.mark.parametrize(("method", "path"), [p for p in PRIVATE if routed(*p) and p[0] == "GET"])
def test_the_owner_sees_its_private_resource(
    world: tuple[TestClient, Keys], method: str, path: str
) -> None:
    client, keys = world
    resource = path.format(rival_batch=keys.rival_batch)
    assert call(client, method, resource, bearer(keys.rival)).status_code == 200
