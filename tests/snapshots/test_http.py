"""Snapshot routes: documents, strong ETags, immutable caching, 304, downloads."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from factordb.db import session_scope
from snapshots.reader import verify_file
from tests.factories import make_caller, make_revision
from tests.snapshots.conftest import validate
from tests.snapshots.content import seed

IMMUTABLE = "public, max-age=31536000, immutable"


@pytest.fixture
def api(db_url: str) -> Iterator[tuple[TestClient, dict[str, str], dict[str, str]]]:
    with session_scope(db_url) as s:
        seed(s)
        admin, _ = make_caller(s, org="operator", role="admin")
        accountant, _ = make_caller(s, org="catl", role="accountant")
    with TestClient(create_app(db_url), raise_server_exceptions=False) as client:
        yield (
            client,
            {"Authorization": f"Bearer {admin}"},
            {"Authorization": f"Bearer {accountant}"},
        )


def test_an_admin_publishes_and_a_republish_answers_200(api) -> None:  # type: ignore[no-untyped-def]
    client, admin, accountant = api
    created = client.post("/snapshots", json={"label": "2025-Q1"}, headers=admin)
    assert created.status_code == 201, created.text
    validate(created.json(), "publish.json")
    again = client.post("/snapshots", json={}, headers=admin)
    assert (again.status_code, again.json()["created"]) == (200, False)
    refused = client.post("/snapshots", json={}, headers=accountant)
    assert refused.status_code == 403
    listed = client.get("/snapshots", headers=accountant)
    validate(listed.json(), "snapshot-list.json")


def test_snapshot_content_is_served_immutable_with_a_strong_etag(api) -> None:  # type: ignore[no-untyped-def]
    client, admin, accountant = api
    snapshot_id = client.post("/snapshots", json={"label": "v1"}, headers=admin).json()[
        "snapshot_id"
    ]
    page = client.get("/snapshots/v1/factors?classification=material", headers=accountant)
    assert page.status_code == 200
    assert [i["factor"] for i in page.json()["items"]] == [
        "cnbrc:ncm811-cam",
        "cnbrc:odd-numbers",
    ]
    etag = page.headers["etag"]
    assert etag.startswith(f'"{snapshot_id}') and not etag.startswith("W/")
    assert page.headers["cache-control"] == IMMUTABLE
    cached = client.get(
        "/snapshots/v1/factors?classification=material",
        headers={**accountant, "If-None-Match": etag},
    )
    assert (cached.status_code, cached.content, cached.headers["etag"]) == (304, b"", etag)
    other = client.get("/snapshots/v1/factors?classification=energy", headers=accountant)
    assert other.headers["etag"] != etag


def test_a_prefix_url_is_revalidated_rather_than_cached_forever(api) -> None:  # type: ignore[no-untyped-def]
    client, admin, accountant = api
    snapshot_id = client.post("/snapshots", json={}, headers=admin).json()["snapshot_id"]
    one = client.get(f"/snapshots/{snapshot_id[:8]}/factors/cnbrc:grid-east", headers=accountant)
    assert one.json()["revision"] == "cnbrc:grid-east@1"
    assert one.headers["cache-control"] == "public, no-cache"
    full = client.get(f"/snapshots/{snapshot_id}/factors/cnbrc:grid-east", headers=accountant)
    assert full.headers["cache-control"] == IMMUTABLE
    assert full.headers["etag"] == one.headers["etag"]


def test_the_snapshot_document_revalidates_because_deprecation_can_move(
    api,  # type: ignore[no-untyped-def]
    db_url: str,
) -> None:
    client, admin, accountant = api
    snapshot_id = client.post("/snapshots", json={"label": "v1"}, headers=admin).json()[
        "snapshot_id"
    ]
    shown = client.get("/snapshots/v1", headers=accountant)
    validate(shown.json(), "snapshot.json")
    assert shown.headers["cache-control"] == "public, no-cache"
    from factordb.principals import SYSTEM
    from snapshots import service

    with session_scope(db_url) as s:
        service.deprecate(s, caller=SYSTEM, ref=snapshot_id, reason="superseded")
    after = client.get(
        "/snapshots/v1", headers={**accountant, "If-None-Match": shown.headers["etag"]}
    )
    assert (after.status_code, after.json()["deprecated"]) == (200, True)


def test_diff_and_export_are_served(api, tmp_path: Path, db_url: str) -> None:  # type: ignore[no-untyped-def]
    client, admin, accountant = api
    first = client.post("/snapshots", json={"label": "v1"}, headers=admin).json()["snapshot_id"]
    with session_scope(db_url) as s:
        make_revision(s, org="cnbrc", code="grid-east", value=570.3, unit="kWh")
    client.post("/snapshots", json={"label": "v2"}, headers=admin)
    diff = client.get(f"/snapshots/{first}/diff/v2", headers=accountant)
    validate(diff.json(), "snapshot-diff.json")
    assert [c["type"] for c in diff.json()["changes"]] == ["suspected_unit_error"]
    assert diff.headers["cache-control"] == IMMUTABLE
    download = client.get("/snapshots/v1/export", headers=accountant)
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/vnd.apache.parquet"
    assert download.headers["cache-control"] == IMMUTABLE
    (tmp_path / "download.parquet").write_bytes(download.content)
    assert verify_file(tmp_path / "download.parquet")["computed"] == first
    csv = client.get("/snapshots/v1/export?format=csv", headers=accountant)
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.headers["etag"] != download.headers["etag"]


def test_unknown_snapshots_and_factors_are_problem_404s(api) -> None:  # type: ignore[no-untyped-def]
    client, admin, accountant = api
    client.post("/snapshots", json={"label": "v1"}, headers=admin)
    for path in ("/snapshots/v9", "/snapshots/v1/factors/cnbrc:absent", "/snapshots/v1/diff/v9"):
        response = client.get(path, headers=accountant)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json"


def test_an_as_of_lookup_by_label_names_the_snapshot_it_resolved(api) -> None:  # type: ignore[no-untyped-def]
    client, admin, accountant = api
    snapshot_id = client.post("/snapshots", json={"label": "v1"}, headers=admin).json()[
        "snapshot_id"
    ]
    by_label = client.get("/snapshots/v1/factors/cnbrc:grid-east", headers=accountant)
    by_id = client.get(f"/snapshots/{snapshot_id}/factors/cnbrc:grid-east", headers=accountant)
    assert by_label.json() == by_id.json()
    assert by_label.json()["snapshot_id"] == snapshot_id
    assert by_label.headers["etag"] == by_id.headers["etag"]


def test_an_as_of_miss_says_whether_the_snapshot_or_the_factor_is_missing(api) -> None:  # type: ignore[no-untyped-def]
    client, admin, accountant = api
    snapshot_id = client.post("/snapshots", json={"label": "v1"}, headers=admin).json()[
        "snapshot_id"
    ]
    details = {
        path: client.get(path, headers=accountant).json()["detail"]
        for path in (
            "/snapshots/v1/factors/cnbrc:absent",
            "/snapshots/v9/factors/cnbrc:grid-east",
            f"/snapshots/{'0' * 64}/factors/cnbrc:grid-east",
        )
    }
    assert details == {
        "/snapshots/v1/factors/cnbrc:absent": (
            f"factor 'cnbrc:absent' is not in snapshot {snapshot_id[:12]} (sequence 1)"
        ),
        "/snapshots/v9/factors/cnbrc:grid-east": "no snapshot labelled 'v9'",
        f"/snapshots/{'0' * 64}/factors/cnbrc:grid-east": f"no snapshot {'0' * 64}",
    }
