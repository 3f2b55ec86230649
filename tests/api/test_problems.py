"""Every error the API produces is problem+json, and no input produces a 500.

Known bad inputs, one row each, on both dialects: a table of query strings, a table of
JSON bodies (a NUL is storable in SQLite but not in PostgreSQL), and awkward text in every
query parameter of every GET (LIKE wildcards and escapes, quotes, NUL, non-BMP text,
numbers beyond every integer type). Generated inputs over the whole OpenAPI document are
Schemathesis' job, in `test_schemathesis.py`; this file used to hold a home-made seeded
fuzz with the same checks (no 5xx, problem shape, documented statuses, valid 2xx bodies),
which went when Schemathesis arrived: the rows here are what that fuzz had over it, the
values known to differ between the dialects, run on PostgreSQL too.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator

from api.app import create_app
from api.errors import PROBLEM
from tests.api.conftest import Keys
from tests.api.test_authorisation import admitted_role, concrete


def cursor_of(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def problem_violations(response: Any) -> list[str]:
    found: list[str] = []
    if response.headers.get("content-type") != PROBLEM:
        found.append(f"content-type {response.headers.get('content-type')}")
        return found
    body = response.json()
    for key, kind in (("type", str), ("title", str), ("status", int), ("detail", str)):
        if not isinstance(body.get(key), kind):
            found.append(f"{key} missing or not {kind.__name__}")
    if body.get("status") != response.status_code:
        found.append("status differs from the HTTP status")
    if response.status_code == 422 and "errors" in body:
        found += [f"error without field: {e}" for e in body["errors"] if not e.get("field")]
    return found


BAD_INPUTS = [
    ("GET", "/no/such/route", 404, None),
    ("DELETE", "/factors", 405, None),
    ("PUT", "/health", 405, None),
    ("GET", "/factors?limit=0", 422, "limit"),
    ("GET", "/factors?limit=-5", 422, "limit"),
    ("GET", "/factors?limit=ten", 422, "limit"),
    ("GET", "/factors?limit=" + "9" * 5000, 422, "limit"),
    ("GET", "/factors?year=twenty", 422, "year"),
    ("GET", "/factors?year=99999999999999", 422, "year"),
    ("GET", "/factors?classification=Not%20A%20Code", 422, "classification"),
    ("GET", "/factors?classification=material.nothing", 422, "classification"),
    ("GET", "/factors?geography=ATLANTIS", 422, "geography"),
    ("GET", "/factors?provider=nobody", 422, "provider"),
    ("GET", "/factors?q=%00", 422, "q"),
    ("GET", "/factors?q=" + "x" * 300, 422, "q"),
    ("GET", "/factors?cursor=!!!not-base64", 422, None),
    ("GET", "/factors?cursor=" + cursor_of([1]), 422, None),
    ("GET", "/factors?cursor=" + cursor_of(["a\u0000"]), 422, None),
    ("GET", "/factors?cursor=" + cursor_of({"a": 1}), 422, None),
    ("GET", "/factors?cursor=" + cursor_of(["a", "b"]), 422, None),
    ("GET", "/factors?cursor=", 422, None),
    ("GET", "/factors/not-a-factor-id", 422, "factor_id"),
    ("GET", "/factors/UPPER:case", 422, "factor_id"),
    ("GET", "/factors/nobody:nothing", 404, None),
    ("GET", "/classification?under=nothing.here", 404, None),
    ("GET", "/schemas/nothing.json", 404, None),
    ("GET", "/classification?under=a%00b", 422, "under"),
    ("GET", "/factors/cnbrc:a%00b", 422, "path"),
    ("GET", "/factors?geography=CN%00", 422, "geography"),
    ("GET", "/citations?since=0.5", 422, "since"),
    ("GET", "/citations?since=20250301", 422, "since"),
]
MANIFEST = {"snapshot_id": "2025.1", "declaration": "D-1", "revisions": ["cnbrc:ncm811-cam@1"]}
BAD_BODIES = [
    (
        "expert",
        "/reviews/rival:secret@1/decisions",
        {"decision": "approve", "comment": "\x00"},
        "comment",
    ),
    ("accountant", "/citations", {**MANIFEST, "declaration": "D\x00"}, "declaration"),
    ("accountant", "/citations", {**MANIFEST, "calculated_at": 0}, "calculated_at"),
    ("accountant", "/citations", {**MANIFEST, "calculated_at": "1700000000"}, "calculated_at"),
    ("admin", "/snapshots", {"label": "v\x00"}, "label"),
]


@pytest.mark.parametrize(("method", "url", "status", "field"), BAD_INPUTS)
def test_bad_input_is_a_specific_problem(
    world: tuple[TestClient, Keys], method: str, url: str, status: int, field: str | None
) -> None:
    client, keys = world
    response = client.request(method, url, headers=keys.header("accountant"))
    assert response.status_code == status, response.text
    assert problem_violations(response) == []
    fields = [e["field"] for e in response.json().get("errors", [])]
    assert field is None or field in fields


@pytest.mark.parametrize(("role", "path", "body", "field"), BAD_BODIES)
def test_bad_json_body_is_a_422_naming_the_field(
    world: tuple[TestClient, Keys], role: str, path: str, body: dict[str, Any], field: str
) -> None:
    client, keys = world
    response = client.post(path, json=body, headers=keys.header(role))
    assert (response.status_code, problem_violations(response)) == (422, []), response.text
    assert field in [e["field"] for e in response.json()["errors"]]


def test_wrong_method_names_the_allowed_ones(world: tuple[TestClient, Keys]) -> None:
    client, _ = world
    assert "GET" in client.delete("/factors").headers["allow"]


@pytest.mark.parametrize(
    "path",
    sorted(p for p, ops in create_app("sqlite://").openapi()["paths"].items() if len(ops) > 1),
)
def test_allow_lists_every_method_served_at_the_path(
    world: tuple[TestClient, Keys], path: str
) -> None:
    client, _ = world
    expected = {m.upper() for m in create_app("sqlite://").openapi()["paths"][path]}
    response = client.request("OPTIONS", concrete(path))
    outcome = (response.status_code, problem_violations(response))
    assert outcome == (405, [])
    assert set(response.headers["allow"].split(", ")) >= expected


def test_huge_limit_is_capped_not_refused(world: tuple[TestClient, Keys]) -> None:
    client, keys = world
    response = client.get("/factors", params={"limit": 10**12}, headers=keys.header("verifier"))
    assert response.status_code == 200
    assert len(response.json()["items"]) <= 500


@pytest.mark.parametrize("content", [b'{"decision": ', b"\xff\xfe\x00 not utf-8", b"[1, 2"])
def test_malformed_json_body_names_the_body(world: tuple[TestClient, Keys], content: bytes) -> None:
    client, keys = world
    operations = [(m, p) for m, p, op in OPERATIONS if "application/json" in body_media(op)]
    responses = [
        client.request(
            method,
            concrete(path),
            content=content,
            headers={**keys.header("expert"), "Content-Type": "application/json"},
        )
        for method, path in operations
    ]
    assert [(r.status_code, problem_violations(r)) for r in responses] == [
        (422, []) for _ in responses
    ]
    assert all(r.json()["errors"][0]["field"] == "body" for r in responses)


OPENAPI = create_app("sqlite:///:memory:").openapi()
OPERATIONS = sorted(
    (method.upper(), path, op)
    for path, operations in OPENAPI["paths"].items()
    for method, op in operations.items()
)


def body_media(op: dict[str, Any]) -> dict[str, Any]:
    return op.get("requestBody", {}).get("content", {})


def response_validator(op: dict[str, Any], status: int) -> Draft202012Validator | None:
    content = op["responses"].get(str(status), {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    if schema is None:
        return None
    root = {**schema, "components": OPENAPI["components"]}
    return Draft202012Validator(root)


def violations(method: str, path: str, op: dict[str, Any], response: Any, sent: str) -> list[str]:
    """What is wrong with one response to an operation: the tests assert there is nothing."""
    status = response.status_code
    where = f"{method} {sent} -> {status}"
    if status >= 500:
        return [f"{where}: server error {response.text[:200]}"]
    found: list[str] = []
    if str(status) not in op["responses"]:
        found.append(f"{where}: status not documented")
    if status >= 400:
        found += [f"{where}: {v}" for v in problem_violations(response)]
        return found
    validator = response_validator(op, status)
    if validator is not None and response.headers.get("content-type", "").startswith(
        "application/json"
    ):
        found += [f"{where}: {e.message[:200]}" for e in validator.iter_errors(response.json())]
    return found


# Values that have broken text handling somewhere; each goes alone into one parameter, so
# it reaches the query rather than stopping at another parameter's validation.
AWKWARD = [
    "",
    " ",
    "%",
    "_",
    "\\",
    "'; DROP TABLE factor;--",
    "a\x00b",
    "💥",
    "碳足迹",
    "1e309",
    "9" * 40,
    "-1",
    "a" * 3000,
    "null",
]
QUERY_PARAMETERS = sorted(
    (path, parameter["name"])
    for path, operations in OPENAPI["paths"].items()
    for parameter in operations.get("get", {}).get("parameters", [])
    if parameter["in"] == "query"
)


@pytest.mark.parametrize(
    ("path", "name"), QUERY_PARAMETERS, ids=[f"{p}?{n}" for p, n in QUERY_PARAMETERS]
)
def test_awkward_text_in_any_query_parameter_keeps_the_contract(
    world: tuple[TestClient, Keys], path: str, name: str
) -> None:
    client, keys = world
    url = concrete(path)
    headers = keys.header(admitted_role("GET", path))
    responses = [(v, client.get(url, params={name: v}, headers=headers)) for v in AWKWARD]
    operation = OPENAPI["paths"][path]["get"]
    found = [
        problem
        for value, response in responses
        for problem in violations("GET", path, operation, response, f"{url}?{name}={value!r:.40}")
    ]
    assert found == []
