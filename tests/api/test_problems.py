"""Every error the API produces is problem+json, and no input produces a 500.

A table of known bad inputs, then a small seeded fuzz over every operation's
documented parameters (schemathesis would pull hypothesis and a dozen more packages
into the dev environment; this keeps the same checks: no 5xx, problem shape on every
error, documented statuses only, 2xx bodies valid against the OpenAPI models).
"""

from __future__ import annotations

import base64
import json
import random
import re
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator

from api.app import create_app
from api.errors import PROBLEM
from tests.api.conftest import Keys
from tests.api.test_authorisation import PUBLIC, RULES, shape


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
    response = client.request("OPTIONS", fill(path, random.Random(1)))
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
            fill(path, random.Random(0)),
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
NASTY = [
    "",
    " ",
    "0",
    "-1",
    "1.5",
    "1e309",
    "9" * 40,
    "\x00",
    "a\x00b",
    "a" * 3000,
    "💥",
    "碳足迹",
    "'; DROP TABLE factor;--",
    "%",
    "_",
    "\\",
    "../../etc/passwd",
    "null",
    "[]",
    "{}",
    "true",
    "material",
    "material.cathode",
    "CN",
    "CN-EAST",
    "cnbrc",
    "cnbrc:ncm811-cam",
    "cnbrc:ncm811-cam@1",
    "rival:secret@1",
    "0" * 64,
    "deadbeef",
    "AR6",
    "parquet",
    "csv",
    "2024-01-01",
    "approve",
    cursor_of(["x"]),
    cursor_of([1, 2]),
]
NUMBERS = [0, -1, 1, 2023, 2**31, 2**63, 10**30, "abc", "1.5", ""]
ROUNDS = 10


def body_media(op: dict[str, Any]) -> dict[str, Any]:
    return op.get("requestBody", {}).get("content", {})


def kinds(schema: dict[str, Any]) -> set[str]:
    options = schema.get("anyOf", [schema])
    return {o.get("type", "string") for o in options}


def value_for(schema: dict[str, Any], rng: random.Random) -> Any:
    if kinds(schema) & {"integer", "number"} and rng.random() < 0.7:
        return rng.choice(NUMBERS)
    if rng.random() < 0.2:
        return "".join(chr(rng.randint(1, 0x2FFF)) for _ in range(rng.randint(1, 12)))
    return rng.choice(NASTY)


def fill(path: str, rng: random.Random) -> str:
    return re.sub(r"\{[^}]*\}", lambda _: quote(str(rng.choice(NASTY)) or "x", safe=""), path)


def random_body(op: dict[str, Any], rng: random.Random) -> Any:
    schema = body_media(op).get("application/json", {}).get("schema", {})
    while "$ref" in schema:
        schema = OPENAPI["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    fields = schema.get("properties", {})
    shapes: list[Any] = [
        {},
        [],
        None,
        "text",
        {name: value_for(sub, rng) for name, sub in fields.items()},
        {name: rng.choice([None, [], {}, 1, "x"]) for name in fields},
    ]
    return rng.choice(shapes)


def response_validator(op: dict[str, Any], status: int) -> Draft202012Validator | None:
    content = op["responses"].get(str(status), {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    if schema is None:
        return None
    root = {**schema, "components": OPENAPI["components"]}
    return Draft202012Validator(root)


def violations(method: str, path: str, op: dict[str, Any], response: Any, sent: str) -> list[str]:
    """What is wrong with one fuzzed response: the fuzz test asserts there is nothing."""
    status = response.status_code
    where = f"{method} {sent} -> {status}"
    if status >= 500:
        return [f"{where}: server error {response.text[:200]}"]
    found: list[str] = []
    if str(status) not in op["responses"] and status not in (304, 405):
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


def fuzz(client: TestClient, keys: Keys, method: str, path: str, op: dict[str, Any]) -> list[str]:
    rng = random.Random(f"{method} {path}")
    rule = RULES.get((method, shape(path)), PUBLIC)
    roles = sorted(rule) if rule != PUBLIC else []
    found: list[str] = []
    for round_ in range(ROUNDS):
        params = {
            p["name"]: value_for(p.get("schema", {}), rng)
            for p in op.get("parameters", [])
            if p["in"] == "query" and rng.random() < 0.6
        }
        url = fill(path, rng)
        headers = keys.header(roles[round_ % len(roles)]) if roles else {}
        extra: dict[str, Any] = {}
        if body_media(op):
            extra["json"] = random_body(op, rng)
        response = client.request(method, url, params=params, headers=headers, **extra)
        found += violations(method, path, op, response, f"{url}?{params}")
    return found


@pytest.mark.parametrize(
    ("method", "path", "op"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS]
)
def test_fuzzed_parameters_never_break_the_contract(
    world: tuple[TestClient, Keys], method: str, path: str, op: dict[str, Any]
) -> None:
    client, keys = world
    assert fuzz(client, keys, method, path, op) == []
