"""GET /factors and GET /factors/{id}: what each caller may see, filters, pages, documents."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from importlib import resources
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator, FormatChecker
from sqlmodel import select

from api.app import create_app
from factordb.db import session_scope
from factordb.models import FactorRevision, Principal, Review
from tests.api.conftest import ROLES, Keys, bearer
from tests.factories import make_caller, make_revision


def validator(name: str) -> Draft202012Validator:
    schema = json.loads(resources.files("schemas").joinpath(name).read_text(encoding="utf-8"))
    return Draft202012Validator(schema, format_checker=FormatChecker())


def revisions_seen(client: TestClient, key: str, **params: Any) -> list[str]:
    response = client.get("/factors", params=params, headers=bearer(key))
    assert response.status_code == 200, response.text
    return [item["revision"] for item in response.json()["items"]]


def add_decision(db_url: str, revision: str, org: str, decision: str, comment: str) -> None:
    with session_scope(db_url) as s:
        _, expert = make_caller(s, org=org, role="expert")
        principal = s.get(Principal, expert.principal_id)
        pk = s.exec(select(FactorRevision.id).where(FactorRevision.revision_id == revision)).one()
        s.add(
            Review(
                revision_pk=pk,
                principal_id=principal.id,
                organisation_id=principal.organisation_id,
                decision=decision,
                comment=comment,
            )
        )


@pytest.fixture(scope="module")
def catalogue(matrix_url: str) -> tuple[TestClient, Keys]:
    """cnbrc: ncm811 approved @1 (+ a decision) and submitted @2 (+ a rejection), lfp and
    separator approved; rival: one submitted, one approved; pager: 23 approved factors."""
    orgs = {"admin": "operator", "provider": "cnbrc", "expert": "pool", "accountant": "catl"}
    with session_scope(matrix_url) as s:
        by_role = {r: make_caller(s, org=orgs.get(r, "tuv"), role=r)[0] for r in ROLES}
        rival = make_caller(s, org="rival", role="provider")[0]
        make_revision(s, org="cnbrc", code="ncm811-cam", name="NCM811 cathode")
        make_revision(s, org="cnbrc", code="ncm811-cam", status="submitted", value=12.0)
        make_revision(
            s,
            org="cnbrc",
            code="lfp-cam",
            name="LFP cathode",
            classification="material.cathode.lfp",
            geography="CN-EAST",
            reference_year=2022,
            source="GREET 2023 battery 100%",
        )
        make_revision(
            s, org="cnbrc", code="sep", classification="material.separator", reference_year=2021
        )
        make_revision(s, org="rival", code="secret", status="submitted", name="Secret cathode")
        make_revision(
            s,
            org="rival",
            code="grid",
            name="East China grid",
            classification="energy.electricity.grid",
            geography="CN-EAST",
            unit="kWh",
            dimension="energy",
        )
        for n in range(23):
            make_revision(
                s,
                org="pager",
                code=f"f{n:02d}",
                classification="other",
                geography="GLO",
                reference_year=2000,
            )
    add_decision(matrix_url, "cnbrc:ncm811-cam@1", "tsinghua", "approve", "matches GREET")
    add_decision(matrix_url, "cnbrc:ncm811-cam@2", "tsinghua", "reject", "unit looks off")
    client = TestClient(create_app(matrix_url), raise_server_exceptions=False)
    return client, Keys(by_role=by_role, rival=rival)


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_each_approved_factor_once(
    catalogue: tuple[TestClient, Keys], role: str
) -> None:
    client, keys = catalogue
    seen = revisions_seen(client, keys.by_role[role])
    assert {"cnbrc:ncm811-cam@1", "cnbrc:lfp-cam@1", "rival:grid@1"} <= set(seen)
    assert "rival:secret@1" not in seen


def test_provider_sees_its_own_open_revision_beside_the_approved_one(
    catalogue: tuple[TestClient, Keys],
) -> None:
    client, keys = catalogue
    seen = revisions_seen(client, keys.by_role["provider"], classification="material.cathode")
    assert seen == ["cnbrc:lfp-cam@1", "cnbrc:ncm811-cam@1", "cnbrc:ncm811-cam@2"]


def test_another_providers_unpublished_revision_is_not_even_counted(
    catalogue: tuple[TestClient, Keys],
) -> None:
    client, keys = catalogue
    response = client.get(
        "/factors", params={"q": "secret"}, headers=bearer(keys.by_role["provider"])
    )
    assert response.json() == {"items": [], "next_cursor": None}
    own = revisions_seen(client, keys.rival, q="secret")
    assert own == ["rival:secret@1"]


def test_another_providers_unpublished_factor_answers_like_a_missing_one(
    catalogue: tuple[TestClient, Keys],
) -> None:
    client, keys = catalogue
    hidden = client.get("/factors/rival:secret", headers=keys.header("provider"))
    missing = client.get("/factors/rival:nothing", headers=keys.header("provider"))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.headers["content-type"] == missing.headers["content-type"]
    assert hidden.json().keys() == missing.json().keys()
    assert client.get("/factors/rival:secret", headers=bearer(keys.rival)).status_code == 200


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"classification": "material.cathode.lfp"}, ["cnbrc:lfp-cam@1"]),
        ({"classification": "energy"}, ["rival:grid@1"]),
        ({"geography": "CN-EAST"}, ["cnbrc:lfp-cam@1", "rival:grid@1"]),
        ({"year": 2022}, ["cnbrc:lfp-cam@1"]),
        ({"unit": "kWh"}, ["rival:grid@1"]),
        ({"unit": "kgCO2e/kWh"}, ["rival:grid@1"]),
        ({"provider": "rival"}, ["rival:grid@1"]),
        ({"q": "ncm811"}, ["cnbrc:ncm811-cam@1"]),
        ({"q": "EAST CHINA"}, ["rival:grid@1"]),
        ({"q": "rival:gr"}, ["rival:grid@1"]),
        ({"q": "100%"}, ["cnbrc:lfp-cam@1"]),
        ({"q": "1_0"}, []),
        ({"classification": "material", "geography": "CN", "year": 2023}, ["cnbrc:ncm811-cam@1"]),
    ],
)
def test_filters_narrow_the_search(
    catalogue: tuple[TestClient, Keys], params: dict[str, Any], expected: list[str]
) -> None:
    client, keys = catalogue
    assert revisions_seen(client, keys.by_role["accountant"], **params) == expected


def test_classification_matches_whole_nodes_not_string_prefixes(
    catalogue: tuple[TestClient, Keys],
) -> None:
    client, keys = catalogue
    assert revisions_seen(client, keys.by_role["admin"], classification="material.separator") == [
        "cnbrc:sep@1"
    ]
    response = client.get(
        "/factors", params={"classification": "material.sep"}, headers=keys.header("admin")
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "classification"


def walk_pages(client: TestClient, headers: dict[str, str], limit: int) -> list[str]:
    seen: list[str] = []
    params: dict[str, Any] = {"limit": limit, "provider": "pager"}
    while True:
        page = client.get("/factors", params=params, headers=headers).json()
        seen.extend(item["revision"] for item in page["items"])
        if page["next_cursor"] is None:
            return seen
        params["cursor"] = page["next_cursor"]


def test_pages_walk_every_visible_factor_once(catalogue: tuple[TestClient, Keys]) -> None:
    client, keys = catalogue
    seen = walk_pages(client, keys.header("verifier"), limit=5)
    assert seen == sorted(f"pager:f{n:02d}@1" for n in range(23))


def test_search_page_matches_its_json_schema(catalogue: tuple[TestClient, Keys]) -> None:
    client, keys = catalogue
    body = client.get("/factors", params={"limit": 2}, headers=keys.header("provider")).json()
    validator("factor-list.json").validate(body)
    assert body["next_cursor"] is not None


def test_detail_shows_decisions_under_the_experts_organisation(
    catalogue: tuple[TestClient, Keys],
) -> None:
    client, keys = catalogue
    body = client.get("/factors/cnbrc:ncm811-cam", headers=keys.header("accountant")).json()
    validator("factor.json").validate(body)
    assert body["current_revision"] == "cnbrc:ncm811-cam@1"
    assert [r["revision"] for r in body["revisions"]] == ["cnbrc:ncm811-cam@1"]
    decision = body["revisions"][0]["decisions"][0]
    assert decision.keys() == {"organisation", "decision", "comment", "decided_at"}
    assert (decision["organisation"], decision["decision"]) == ("tsinghua", "approve")


def test_owner_sees_every_revision_with_its_decisions_and_provenance(
    catalogue: tuple[TestClient, Keys],
) -> None:
    client, keys = catalogue
    body = client.get("/factors/cnbrc:ncm811-cam", headers=keys.header("provider")).json()
    validator("factor.json").validate(body)
    assert [(r["revision"], r["status"]) for r in body["revisions"]] == [
        ("cnbrc:ncm811-cam@1", "approved"),
        ("cnbrc:ncm811-cam@2", "submitted"),
    ]
    assert body["revisions"][1]["decisions"][0]["comment"] == "unit looks off"


@pytest.mark.parametrize("role", ["admin", "expert", "accountant", "verifier"])
def test_non_owners_see_only_approved_revisions(
    catalogue: tuple[TestClient, Keys], role: str
) -> None:
    client, keys = catalogue
    body = client.get("/factors/cnbrc:ncm811-cam", headers=keys.header(role)).json()
    assert [r["status"] for r in body["revisions"]] == ["approved"]


@pytest.mark.parametrize("role", ["provider", "accountant"])
def test_timestamps_carry_their_utc_offset(catalogue: tuple[TestClient, Keys], role: str) -> None:
    client, keys = catalogue
    body = client.get("/factors/cnbrc:ncm811-cam", headers=keys.header(role)).json()
    stamps = [body["created_at"]] + [
        stamp
        for revision in body["revisions"]
        for stamp in [revision["submitted_at"], *(d["decided_at"] for d in revision["decisions"])]
    ]
    assert [datetime.fromisoformat(s).utcoffset() for s in stamps] == [timedelta(0)] * len(stamps)
