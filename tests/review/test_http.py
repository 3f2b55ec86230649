"""The review routes over HTTP: the same service calls, documents and problem+json errors.

The module shares one database per dialect (`shared_url`); each test makes its own
revisions under its own provider and asserts only on those.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.errors import PROBLEM
from factordb.db import session_scope
from tests.factories import make_caller, make_revision
from tests.review.conftest import Member, Pool, bearer, make_batch, validator


@dataclass(frozen=True)
class World:
    api: TestClient
    pool: Pool
    pending: str
    approved: str


@pytest.fixture(scope="module")
def world(shared_url: str, shared_pool: Pool) -> Iterator[World]:
    with session_scope(shared_url) as s:
        pending = make_revision(s, status="submitted").revision_id
        approved = make_revision(s, status="approved").revision_id
    with TestClient(create_app(shared_url), raise_server_exceptions=False) as api:
        yield World(api, shared_pool, pending, approved)


def provider(url: str, slug: str) -> Member:
    with session_scope(url) as s:
        key, caller = make_caller(s, org=slug, role="provider")
    return Member(key, caller)


def revision_of(url: str, slug: str, **fields: Any) -> str:
    with session_scope(url) as s:
        return make_revision(s, org=slug, **fields).revision_id


def test_queue_is_the_documented_list(shared_url: str, world: World) -> None:
    first = revision_of(shared_url, "http-queue", status="submitted")
    second = revision_of(shared_url, "http-queue", status="in_review")
    response = world.api.get(
        "/reviews/queue",
        params={"provider": "http-queue", "limit": 1},
        headers=bearer(world.pool.experts[0]),
    )
    assert response.status_code == 200, response.text
    validator("review-list.json").validate(response.json())
    after = world.api.get(
        "/reviews/queue",
        params={"provider": "http-queue", "cursor": response.json()["next_cursor"]},
        headers=bearer(world.pool.experts[0]),
    )
    pages = [response.json()["items"], after.json()["items"]]
    assert [[i["revision"] for i in page] for page in pages] == [[first], [second]]


def test_decisions_reach_quorum_over_http(shared_url: str, world: World) -> None:
    revision = revision_of(shared_url, "http-decide", status="submitted")
    statuses = []
    for expert in world.pool.experts[:2]:
        response = world.api.post(
            f"/reviews/{revision}/decisions",
            json={"decision": "approve", "comment": "agrees with the EPD"},
            headers=bearer(expert),
        )
        assert response.status_code == 200, response.text
        validator("review-decisions.json").validate(response.json())
        statuses += [d["status"] for d in response.json()["decided"]]
    assert statuses == ["in_review", "approved"]
    shown = world.api.get(f"/revisions/{revision}", headers=bearer(world.pool.accountant))
    assert shown.json()["approvals"] == 2


def test_batch_decisions_over_http_list_what_was_skipped(shared_url: str, world: World) -> None:
    owner = provider(shared_url, "http-batch")
    with session_scope(shared_url) as s:
        make_batch(
            s,
            org_id=owner.caller.organisation_id,
            principal_id=owner.caller.principal_id,
            batch_id="b-http",
        )
        cathode = make_revision(s, org="http-batch", status="submitted", batch_id="b-http")
        steam = make_revision(
            s,
            org="http-batch",
            status="submitted",
            batch_id="b-http",
            classification="energy.steam",
        )
    response = world.api.post(
        "/batches/b-http/decisions",
        json={"decision": "request_changes", "comment": "state the system boundary"},
        headers=bearer(world.pool.cathode),
    )
    assert response.status_code == 200, response.text
    validator("review-decisions.json").validate(response.json())
    assert response.json()["decided"] == [
        {
            "revision": cathode.revision_id,
            "decision": "request_changes",
            "status": "changes_requested",
        }
    ]
    assert [(s["revision"], s["kind"]) for s in response.json()["skipped"]] == [
        (steam.revision_id, "outside_specialty")
    ]


def test_provider_withdraws_and_lists_its_submissions(shared_url: str, world: World) -> None:
    owner = provider(shared_url, "http-withdraw")
    revision = revision_of(shared_url, "http-withdraw", status="submitted")
    response = world.api.post(f"/revisions/{revision}/withdraw", headers=bearer(owner))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "withdrawn"
    listed = world.api.get("/submissions", headers=bearer(owner))
    assert [(i["revision"], i["status"]) for i in listed.json()["items"]] == [
        (revision, "withdrawn")
    ]


@pytest.mark.parametrize(
    ("who", "target", "status"),
    [
        ("provider", "pending", 200),
        ("cathode", "pending", 200),
        ("admin", "pending", 200),
        ("rival", "pending", 404),
        ("energy", "pending", 404),
        ("accountant", "pending", 404),
        ("rival", "approved", 200),
        ("accountant", "approved", 200),
    ],
)
def test_revision_is_visible_only_to_those_who_may_see_it(
    world: World, who: str, target: str, status: int
) -> None:
    revision = getattr(world, target)
    response = world.api.get(f"/revisions/{revision}", headers=bearer(getattr(world.pool, who)))
    assert response.status_code == status
    assert response.json().get("revision", revision) == revision


def test_hidden_revision_answers_exactly_like_a_missing_one(world: World) -> None:
    hidden = world.api.get(f"/revisions/{world.pending}", headers=bearer(world.pool.rival))
    missing = world.api.get("/revisions/cnbrc:missing@1", headers=bearer(world.pool.rival))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["detail"].replace(world.pending, "X") == missing.json()["detail"].replace(
        "cnbrc:missing@1", "X"
    )
    assert {k: v for k, v in hidden.json().items() if k != "detail"} == {
        k: v for k, v in missing.json().items() if k != "detail"
    }


# (method, path, who, body) → (status, problem type, field named in `errors` or None)
ERRORS = [
    ("GET", "/reviews/queue", None, None, 401, "unauthenticated", None),
    ("GET", "/reviews/queue", "provider", None, 403, "forbidden", None),
    ("GET", "/reviews/queue?classification=material.nope", "cathode", None, 404, "not-found", None),
    ("GET", "/reviews/queue?cursor=garbage", "cathode", None, 422, "validation-failed", None),
    (
        "POST",
        "/reviews/{pending}/decisions",
        "cathode",
        {"decision": "reject"},
        422,
        "validation-failed",
        "comment",
    ),
    (
        "POST",
        "/reviews/{pending}/decisions",
        "cathode",
        {"decision": "accept"},
        422,
        "validation-failed",
        "decision",
    ),
    (
        "POST",
        "/reviews/{pending}/decisions",
        "colleague",
        {"decision": "approve"},
        403,
        "forbidden",
        None,
    ),
    (
        "POST",
        "/reviews/{pending}/decisions",
        "energy",
        {"decision": "approve"},
        404,
        "not-found",
        None,
    ),
    (
        "POST",
        "/reviews/{approved}/decisions",
        "cathode",
        {"decision": "approve"},
        409,
        "invalid-transition",
        None,
    ),
    (
        "POST",
        "/reviews/not-a-revision/decisions",
        "cathode",
        {"decision": "approve"},
        422,
        "validation-failed",
        "revision",
    ),
    (
        "POST",
        "/batches/b-none/decisions",
        "cathode",
        {"decision": "approve"},
        404,
        "not-found",
        None,
    ),
    ("POST", "/revisions/{pending}/withdraw", "rival", None, 404, "not-found", None),
    ("POST", "/revisions/{approved}/withdraw", "provider", None, 409, "invalid-transition", None),
    ("POST", "/revisions/{approved}/withdraw", "rival", None, 403, "forbidden", None),
    ("GET", "/submissions?status=pending", "provider", None, 422, "validation-failed", None),
]


@pytest.mark.parametrize(("method", "path", "who", "body", "status", "kind", "field"), ERRORS)
def test_refusal_is_a_problem_document(
    world: World,
    method: str,
    path: str,
    who: str | None,
    body: dict[str, str] | None,
    status: int,
    kind: str,
    field: str | None,
) -> None:
    headers = bearer(getattr(world.pool, who)) if who else {}
    url = path.format(pending=world.pending, approved=world.approved)
    response = world.api.request(method, url, json=body, headers=headers)
    assert (response.status_code, response.headers["content-type"]) == (status, PROBLEM)
    validator("problem.json").validate(response.json())
    assert response.json()["type"] == f"/problems/{kind}"
    assert field in [*(e.get("field") for e in response.json().get("errors", [])), None]
    unchanged = [
        world.api.get(f"/revisions/{r}", headers=bearer(world.pool.admin)).json()
        for r in (world.pending, world.approved)
    ]
    assert [(d["status"], d["decisions"]) for d in unchanged] == [
        ("submitted", []),
        ("approved", []),
    ]
