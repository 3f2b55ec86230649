"""The JSON Schemas in schemas/ are valid draft 2020-12 documents with stable IDs."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from jsonschema import Draft202012Validator

SCHEMA_FILES = sorted(
    p.name for p in resources.files("schemas").iterdir() if p.name.endswith(".json")
)
EXPECTED = {
    "problem.json",
    "ingest-report.json",
    "review-list.json",
    "review-decisions.json",
    "publish.json",
    "snapshot-list.json",
    "snapshot.json",
    "snapshot-diff.json",
    "snapshot-verify.json",
    "calc-input.json",
    "calc-output.json",
    "calc-summary.json",
    "citation-manifest.json",
    "citation-report.json",
    "audit-verify.json",
}


def test_every_documented_document_has_a_schema() -> None:
    assert set(SCHEMA_FILES) >= EXPECTED


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_schema_is_valid_draft_2020_12(name: str) -> None:
    schema = json.loads(resources.files("schemas").joinpath(name).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith("/" + name)
