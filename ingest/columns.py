"""The provider CSV contract as data: column names, kinds and limits (DESIGN.md, Contracts)."""

from __future__ import annotations

from factordb.models.factor import CHANGE_REASONS, DISTRIBUTIONS, GWP_BASES
from factordb.revisions import CONTENT_FIELDS

REQUIRED: tuple[str, ...] = (
    "factor_code",
    "name",
    "classification",
    "value",
    "unit",
    "geography",
    "reference_year",
    "source",
)
OPTIONAL: tuple[str, ...] = (
    "technology",
    "gwp_basis",
    "valid_from",
    "valid_to",
    "source_url",
    "license",
    "comment",
    "uncertainty",
    "gsd",
    "sd",
    "min",
    "max",
    "dqr_ter",
    "dqr_ger",
    "dqr_tir",
    "dqr_p",
    "co2_fossil",
    "co2_biogenic",
    "ch4_fossil",
    "ch4_biogenic",
    "n2o",
    "change_reason",
)
COLUMNS: tuple[str, ...] = REQUIRED + OPTIONAL

FLOAT_COLUMNS: tuple[str, ...] = (
    "value",
    "gsd",
    "sd",
    "min",
    "max",
    "co2_fossil",
    "co2_biogenic",
    "ch4_fossil",
    "ch4_biogenic",
    "n2o",
)
GAS_COLUMNS: tuple[str, ...] = ("co2_fossil", "co2_biogenic", "ch4_fossil", "ch4_biogenic", "n2o")
DQR_COLUMNS: tuple[str, ...] = ("dqr_ter", "dqr_ger", "dqr_tir", "dqr_p")
INT_COLUMNS: tuple[str, ...] = ("reference_year", *DQR_COLUMNS)
DATE_COLUMNS: tuple[str, ...] = ("valid_from", "valid_to")
TEXT_COLUMNS: tuple[str, ...] = tuple(
    c for c in COLUMNS if c not in FLOAT_COLUMNS + INT_COLUMNS + DATE_COLUMNS
)
# Longest text the registry's columns hold (factordb/models/factor.py).
MAX_LENGTH: dict[str, int] = {
    "factor_code": 128,
    "name": 500,
    "classification": 200,
    "geography": 20,
    "technology": 200,
    "license": 200,
    "unit": 60,
}
# Values in the CSV that are written in a fixed vocabulary, compared case-insensitively.
VOCABULARY: dict[str, tuple[str, ...]] = {
    "uncertainty": DISTRIBUTIONS,
    "gwp_basis": GWP_BASES,
    "change_reason": CHANGE_REASONS,
}
DEFAULTS: dict[str, str] = {"gwp_basis": "AR6", "change_reason": "new_data"}

# What a staged row holds: the identity, every content field, and the load metadata.
STAGE_COLUMNS: tuple[str, ...] = (
    "line",
    "factor_code",
    *CONTENT_FIELDS,
    "change_reason",
    "content_hash",
    "warnings",
)
STAGE_FLOAT = frozenset(FLOAT_COLUMNS) | {"original_value"}
STAGE_INT = frozenset(INT_COLUMNS) | {"line"}
STAGE_DATE = frozenset(DATE_COLUMNS)
