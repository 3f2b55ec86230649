"""What a revision's content is, and its hash (an identical re-upload is a no-op)."""

from __future__ import annotations

from datetime import date
from typing import Any

from factordb.hashing import canonical_number, sha256_json

CONTENT_FIELDS: tuple[str, ...] = (
    "name",
    "classification",
    "geography",
    "reference_year",
    "technology",
    "value",
    "unit",
    "dimension",
    "original_value",
    "original_unit",
    "gwp_basis",
    "co2_fossil",
    "co2_biogenic",
    "ch4_fossil",
    "ch4_biogenic",
    "n2o",
    "uncertainty",
    "gsd",
    "sd",
    "min",
    "max",
    "dqr_ter",
    "dqr_ger",
    "dqr_tir",
    "dqr_p",
    "valid_from",
    "valid_to",
    "source",
    "source_url",
    "license",
    "comment",
)
NUMBER_FIELDS = frozenset(
    {
        "value",
        "original_value",
        "co2_fossil",
        "co2_biogenic",
        "ch4_fossil",
        "ch4_biogenic",
        "n2o",
        "gsd",
        "sd",
        "min",
        "max",
    }
)


def _canonical(field: str, value: Any) -> str | int | None:
    if value is None or value == "":
        return None
    if field in NUMBER_FIELDS:
        return canonical_number(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def content_hash(content: dict[str, Any]) -> str:
    """sha256 over the content fields only (not status, provenance or change reason)."""
    return sha256_json({f: _canonical(f, content.get(f)) for f in CONTENT_FIELDS})
