"""The citation routes over HTTP: status codes, problem+json, role gates, documents."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.citations.conftest import World, validator


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(db_url), raise_server_exceptions=False) as test_client:
        yield test_client


def _as(world: World, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.keys[who]}"}


def _post(client: TestClient, world: World, who: str = "oem-a", **body: Any) -> Any:
    payload = {
        "snapshot_id": "2025.1",
        "declaration": "PACK-75/2025",
        "revisions": [{"revision": "cnbrc:ncm811-cam@1", "share": 0.6}, "cec-grid:grid-east@1"],
        **body,
    }
    return client.post("/citations", json=payload, headers=_as(world, who))


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    validator("problem.json").validate(body)
    return body


def test_post_creates_then_repeats_idempotently(client: TestClient, committed_world: World) -> None:
    created = _post(client, committed_world)
    again = _post(client, committed_world)
    assert (created.status_code, again.status_code) == (201, 200)
    assert again.json()["manifest"] == created.json()["manifest"]
    assert (created.json()["created"], again.json()["created"]) == (True, False)
    validator("citation-record.json").validate(created.json())


def test_changed_manifest_supersedes_with_201(client: TestClient, committed_world: World) -> None:
    first = _post(client, committed_world).json()
    second = _post(client, committed_world, snapshot_id="2025.2", revisions=["cnbrc:ncm811-cam@2"])
    assert second.status_code == 201
    assert second.json()["supersedes"] == first["manifest"]


def test_bad_entries_answer_422_listing_each(client: TestClient, committed_world: World) -> None:
    response = _post(
        client,
        committed_world,
        revisions=[
            "cnbrc:ncm811-cam@2",
            "cnbrc:ghost@1",
            {"revision": "cnbrc:lfp-cam@1", "share": 2},
        ],
    )
    body = _problem(response, 422)
    assert body["type"] == "/problems/validation-failed"
    assert [e["code"] for e in body["errors"]] == [
        "invalid_share",
        "revision_mismatch",
        "unknown_revision",
    ]


@pytest.mark.parametrize(
    "body",
    [
        {"revisions": "cnbrc:ncm811-cam@1"},
        {"revisions": [{"revision": "cnbrc:ncm811-cam@1", "share": "half"}]},
        {"calculated_at": "yesterday"},
        {"declaration": None},
    ],
)
def test_malformed_body_is_a_422_problem(
    client: TestClient, committed_world: World, body: dict[str, Any]
) -> None:
    assert _problem(_post(client, committed_world, **body), 422)["errors"]


def test_unknown_snapshot_in_body_is_a_422_problem(
    client: TestClient, committed_world: World
) -> None:
    body = _problem(_post(client, committed_world, snapshot_id="ffffffff"), 422)
    assert body["errors"][0]["loc"] == ["snapshot_id"]


@pytest.mark.parametrize("who", ["cnbrc", "tuv", "expert", "admin"])
def test_only_accountants_post(client: TestClient, committed_world: World, who: str) -> None:
    assert _problem(_post(client, committed_world, who=who), 403)["type"] == "/problems/forbidden"


def test_posting_without_a_key_is_401(client: TestClient, committed_world: World) -> None:
    response = client.post("/citations", json={})
    assert _problem(response, 401)["type"] == "/problems/unauthenticated"
