"""The OpenAPI document is accurate: response models agree with schemas/*.json, every
error is documented as problem+json, and the schema files are served byte for byte."""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.errors import PROBLEM

# The contract: which public document each route answers with (DESIGN.md, schemas/README.md).
DOCUMENTS: dict[tuple[str, str], str] = {
    ("GET", "/factors"): "factor-list.json",
    ("GET", "/factors/{}"): "factor.json",
    ("POST", "/batches"): "ingest-report.json",
    ("GET", "/batches/{}"): "ingest-report.json",
    ("GET", "/reviews/queue"): "review-list.json",
    ("POST", "/reviews/{}/decisions"): "review-decisions.json",
    ("POST", "/batches/{}/decisions"): "review-decisions.json",
    ("POST", "/snapshots"): "publish.json",
    ("GET", "/snapshots"): "snapshot-list.json",
    ("GET", "/snapshots/{}"): "snapshot.json",
    ("GET", "/snapshots/{}/diff/{}"): "snapshot-diff.json",
    ("GET", "/citations"): "citation-report.json",
    ("POST", "/citations"): "citation-record.json",
    ("GET", "/citations/impact"): "citation-impact.json",
    ("GET", "/citations/errata"): "citation-errata.json",
}
# Routes whose success body is not a JSON document described by a response model.
RAW = {("GET", "/schemas/{}.json"), ("GET", "/snapshots/{}/export")}
OPENAPI = create_app("sqlite:///:memory:").openapi()
COMPONENTS = OPENAPI["components"]["schemas"]


def shape(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


OPERATIONS = sorted(
    (method.upper(), path) for path, operations in OPENAPI["paths"].items() for method in operations
)
DOCUMENTED = sorted(
    (method, path, DOCUMENTS[(method, shape(path))])
    for method, path in OPERATIONS
    if (method, shape(path)) in DOCUMENTS
)


def operation(method: str, path: str) -> dict[str, Any]:
    return OPENAPI["paths"][path][method.lower()]


def load_schema(name: str) -> dict[str, Any]:
    return json.loads(resources.files("schemas").joinpath(name).read_text(encoding="utf-8"))


def resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        *_, kind, name = schema["$ref"].split("/")
        schema = (COMPONENTS if kind == "schemas" else root["$defs"])[name]
    return schema


def types(schema: dict[str, Any], root: dict[str, Any]) -> set[str]:
    """The JSON types a schema admits; {"any"} when it does not say."""
    schema = resolve(schema, root)
    if "type" in schema:
        kinds = schema["type"]
        return set(kinds) if isinstance(kinds, list) else {kinds}
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            return set().union(*(types(s, root) for s in schema[combinator]))
    if "enum" in schema:
        return {
            {str: "string", int: "integer", float: "number", bool: "boolean"}.get(type(v), "null")
            for v in schema["enum"]
        }
    return {"any"}


def branch(schema: dict[str, Any], root: dict[str, Any], kind: str) -> dict[str, Any] | None:
    schema = resolve(schema, root)
    candidates = [schema, *schema.get("anyOf", []), *schema.get("oneOf", [])]
    for candidate in candidates:
        candidate = resolve(candidate, root)
        if candidate.get("type") == kind or (
            isinstance(candidate.get("type"), list) and kind in candidate["type"]
        ):
            return candidate
    return None


def disagreements(
    document: dict[str, Any], model: dict[str, Any], file_root: dict[str, Any], where: str
) -> list[str]:
    """Where values the API documents could break the file's schema (API ⊆ file)."""
    found: list[str] = []
    file_types = types(document, file_root)
    api_types = types(model, OPENAPI)
    if "any" not in file_types and "any" not in api_types:
        widened = file_types | ({"integer"} if "number" in file_types else set())
        extra = api_types - widened
        if extra:
            found.append(
                f"{where}: API may emit {sorted(extra)}, schema allows {sorted(file_types)}"
            )
    file_object, api_object = (
        branch(document, file_root, "object"),
        branch(model, OPENAPI, "object"),
    )
    if file_object and api_object:
        api_properties = api_object.get("properties", {})
        for name in file_object.get("required", []):
            if name not in api_properties:
                found.append(f"{where}.{name}: required by the schema, missing from the API model")
        for name, sub in file_object.get("properties", {}).items():
            if name in api_properties:
                found += disagreements(sub, api_properties[name], file_root, f"{where}.{name}")
    file_array, api_array = branch(document, file_root, "array"), branch(model, OPENAPI, "array")
    if file_array and api_array and "items" in file_array and "items" in api_array:
        found += disagreements(file_array["items"], api_array["items"], file_root, where + "[]")
    return found


def success_schema(method: str, path: str) -> dict[str, Any]:
    responses = operation(method, path)["responses"]
    documented = [s for s, r in responses.items() if "application/json" in r.get("content", {})]
    status = min(s for s in documented if s.startswith("2"))
    return responses[status]["content"]["application/json"]["schema"]


@pytest.mark.parametrize(("method", "path", "document"), DOCUMENTED)
def test_response_model_agrees_with_its_json_schema(method: str, path: str, document: str) -> None:
    file_schema = load_schema(document)
    assert disagreements(file_schema, success_schema(method, path), file_schema, document) == []


def test_problem_component_agrees_with_problem_json() -> None:
    file_schema = load_schema("problem.json")
    model = {"$ref": "#/components/schemas/Problem"}
    assert disagreements(file_schema, model, file_schema, "problem.json") == []


@pytest.mark.parametrize(
    ("method", "path"), [o for o in OPERATIONS if (o[0], shape(o[1])) not in RAW]
)
def test_every_success_response_has_a_model(method: str, path: str) -> None:
    schema = resolve(success_schema(method, path), OPENAPI)
    assert schema.get("type") == "object" or "properties" in schema


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_every_error_response_is_problem_json(method: str, path: str) -> None:
    errors = {s: r for s, r in operation(method, path)["responses"].items() if s[0] in "45"}
    media = {s: set(r.get("content", {})) for s, r in errors.items()}
    refs = {s: r["content"][PROBLEM]["schema"]["$ref"] for s, r in errors.items()}
    assert media == {s: {PROBLEM} for s in errors}
    assert set(refs.values()) <= {"#/components/schemas/Problem"}


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_authenticated_routes_declare_bearer_security_and_401(method: str, path: str) -> None:
    op = operation(method, path)
    secured = op.get("security") == [{"HTTPBearer": []}]
    assert secured == ("401" in op["responses"])


def test_bearer_scheme_and_tags_are_documented() -> None:
    assert OPENAPI["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    declared = {t["name"] for t in OPENAPI["tags"]}
    used = {t for p in OPENAPI["paths"].values() for op in p.values() for t in op.get("tags", [])}
    assert used <= declared


def test_factor_routes_carry_examples() -> None:
    for name in ("FactorSummary", "FactorDetail", "Problem"):
        assert COMPONENTS[name]["examples"]


@pytest.mark.parametrize(
    "name", sorted(p.name for p in resources.files("schemas").iterdir() if p.name.endswith(".json"))
)
def test_schema_files_are_served_byte_for_byte(name: str) -> None:
    client = TestClient(create_app("sqlite:///:memory:"))
    response = client.get(f"/schemas/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/schema+json"
    assert response.content == resources.files("schemas").joinpath(name).read_bytes()
    assert name.removesuffix(".json") in client.get("/schemas").json()["items"]


def test_unknown_schema_is_a_404_problem() -> None:
    response = TestClient(create_app("sqlite:///:memory:")).get("/schemas/nothing.json")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


def test_root_redirects_a_browser_to_the_docs_or_the_desk() -> None:
    response = TestClient(create_app("sqlite:///:memory:")).get("/", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] in {"/docs", "/desk"}


def test_docs_page_is_served() -> None:
    response = TestClient(create_app("sqlite:///:memory:")).get("/docs")
    assert response.status_code == 200
    assert "/openapi.json" in response.text


def test_the_agreement_check_catches_a_missing_field_and_a_widened_type() -> None:
    document = {
        "type": "object",
        "required": ["a", "b"],
        "properties": {"a": {"type": "string"}, "b": {"type": "integer"}},
    }
    model = {
        "type": "object",
        "properties": {"a": {"anyOf": [{"type": "string"}, {"type": "null"}]}},
    }
    assert disagreements(document, model, document, "doc") == [
        "doc.b: required by the schema, missing from the API model",
        "doc.a: API may emit ['null'], schema allows ['string']",
    ]
