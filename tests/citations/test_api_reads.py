"""The citation read routes over HTTP, per role, on one database per dialect (no writes)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from api.app import create_app
from tests.citations.conftest import World, validator


@pytest.fixture(scope="module")
def http(read_only: tuple[str, World]) -> Iterator[tuple[TestClient, World]]:
    url, world = read_only
    with TestClient(create_app(url), raise_server_exceptions=False) as client:
        yield client, world


def _get(http: tuple[TestClient, World], who: str, path: str, **params: str) -> Response:
    client, world = http
    return client.get(path, params=params, headers={"Authorization": f"Bearer {world.keys[who]}"})


@pytest.mark.parametrize(
    ("who", "params", "status"),
    [
        ("cnbrc", {}, 200),
        ("cec", {}, 200),
        ("oem-a", {}, 200),
        ("oem-b", {}, 200),
        ("tuv", {"declaration": "B-1"}, 200),
        ("tuv", {}, 422),
        ("admin", {}, 200),
        ("expert", {}, 403),
        ("cnbrc", {"snapshot": "2099.9"}, 404),
        ("cnbrc", {"since": "March"}, 422),
        ("cnbrc", {"limit": "0"}, 422),
    ],
)
def test_report_route_by_role(
    http: tuple[TestClient, World], who: str, params: dict[str, str], status: int
) -> None:
    response = _get(http, who, "/citations", **params)
    assert response.status_code == status, response.text
    schema = "citation-report.json" if status == 200 else "problem.json"
    validator(schema).validate(response.json())


def test_provider_report_over_http_holds_only_its_factors(http: tuple[TestClient, World]) -> None:
    body = _get(http, "cec", "/citations", since="2000-01-01").json()
    assert {i["factor"] for i in body["items"]} == {"cec-grid:grid-east"}
    assert {(d["declaration"], d["citing_org"]) for d in body["details"]} == {
        ("A-1", "oem-a"),
        ("B-1", "oem-a"),
        ("B-2", "oem-b"),
    }


@pytest.mark.parametrize(("who", "status"), [("cnbrc", 200), ("oem-a", 200), ("tuv", 403)])
def test_impact_route(http: tuple[TestClient, World], who: str, status: int) -> None:
    _, world = http
    response = _get(http, who, "/citations/impact", **{"from": "2025.1", "to": world.s2[:12]})
    assert response.status_code == status, response.text
    schema = "citation-impact.json" if status == 200 else "problem.json"
    validator(schema).validate(response.json())


def test_impact_without_to_is_a_422_problem(http: tuple[TestClient, World]) -> None:
    response = _get(http, "oem-a", "/citations/impact", **{"from": "2025.1"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(("who", "status"), [("oem-a", 200), ("cnbrc", 403)])
def test_errata_route(http: tuple[TestClient, World], who: str, status: int) -> None:
    response = _get(http, who, "/citations/errata")
    assert response.status_code == status, response.text
    schema = "citation-errata.json" if status == 200 else "problem.json"
    validator(schema).validate(response.json())
