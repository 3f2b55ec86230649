"""Response models shared across routes: problem details and the factor documents; and
`IsoText`, which holds date and time inputs to the ISO 8601 text their schema documents.

Field names and types follow `schemas/*.json` (problem.json, factor.json,
factor-list.json); `tests/api/test_openapi.py` holds the two in agreement.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field


def _utc(value: datetime) -> datetime:
    """SQLite hands back naive timestamps: they are UTC, and RFC 3339 wants the offset."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_utc)]

_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")


def _iso_text(value: Any) -> Any:
    """Refuse a number where a date or time is documented (`format: date`, `date-time`).

    Pydantic would read `0`, `"0.5"` or `"20250301"` as Unix timestamps, so a typo became a
    date in 1970 instead of a 422; only ISO 8601 text (and `null` where allowed) gets through.
    """
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise ValueError("expected an ISO 8601 date or date-time, not a number")
    return value


IsoText = BeforeValidator(_iso_text)
"""Put in `Annotated[date | datetime | None, IsoText, ...]` for every date or time input."""


class ProblemItem(BaseModel):
    """One field or row problem."""

    model_config = ConfigDict(extra="allow")

    # absent rather than null when they do not apply (schemas/problem.json)
    loc: list[str | int] | str = Field(default=None)
    field: str = Field(default=None, description="The offending field, dotted.")
    line: int | None = None
    column: str | None = None
    value: Any = None
    reason: str = Field(default=None)
    message: str = Field(default=None)


class Problem(BaseModel):
    """RFC 9457 problem details (`application/problem+json`)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": "/problems/not-found",
                    "title": "Not found",
                    "status": 404,
                    "detail": "no factor 'cnbrc:ncm811-cam'",
                }
            ]
        },
    )

    type: str = Field(description="Stable URI reference of the kind of problem.")
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    instance: str = Field(default=None, description="Absent unless set.")
    errors: list[ProblemItem] = Field(
        default=None, description="One entry per offending field or CSV cell; absent if none."
    )


class FactorContent(BaseModel):
    """A revision's immutable content; `value` is kg CO2e per base `unit`."""

    name: str
    classification: str
    geography: str
    reference_year: int
    technology: str | None = None
    value: float
    unit: str = Field(description="Base activity unit: kg, kWh, t*km, MJ, m3 or item.")
    dimension: str
    original_value: float
    original_unit: str
    gwp_basis: str
    co2_fossil: float | None = None
    co2_biogenic: float | None = None
    ch4_fossil: float | None = None
    ch4_biogenic: float | None = None
    n2o: float | None = None
    uncertainty: str | None = None
    gsd: float | None = None
    sd: float | None = None
    min: float | None = None
    max: float | None = None
    dqr_ter: int | None = None
    dqr_ger: int | None = None
    dqr_tir: int | None = None
    dqr_p: int | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    source: str
    source_url: str | None = None
    license: str | None = None
    comment: str | None = None


_EXAMPLE_CONTENT: dict[str, Any] = {
    "name": "NCM811 cathode active material",
    "classification": "material.cathode.ncm811",
    "geography": "CN",
    "reference_year": 2023,
    "technology": "coprecipitation",
    "value": 28.4,
    "unit": "kg",
    "dimension": "mass",
    "original_value": 28.4,
    "original_unit": "kgCO2e/kg",
    "gwp_basis": "AR6",
    "uncertainty": "lognormal",
    "gsd": 1.2,
    "dqr_ter": 2,
    "dqr_ger": 2,
    "dqr_tir": 1,
    "dqr_p": 2,
    "source": "CNBRC battery LCI 2024",
}


class FactorSummary(FactorContent):
    """One search hit: a factor with the revision the caller sees for it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "factor": "cnbrc:ncm811-cam",
                    "revision": "cnbrc:ncm811-cam@2",
                    "number": 2,
                    "status": "approved",
                    "provider": "cnbrc",
                    **_EXAMPLE_CONTENT,
                }
            ]
        }
    )

    factor: str
    revision: str
    number: int
    status: str
    provider: str


class FactorPage(BaseModel):
    """A page of search hits; pass `next_cursor` back as `cursor` for the next page."""

    items: list[FactorSummary]
    next_cursor: str | None = None


class Decision(BaseModel):
    """An expert's decision, shown under the expert's organisation."""

    organisation: str
    decision: str
    comment: str | None = None
    decided_at: UtcDatetime | None = None


class RevisionDetail(FactorContent):
    revision: str
    number: int
    status: str
    status_changed_at: UtcDatetime | None = None
    submitted_at: UtcDatetime | None = None
    change_reason: str
    content_hash: str
    batch_id: str | None = Field(default=None, description="Shown to the factor's provider only.")
    warnings: list[dict[str, Any]] = []
    decisions: list[Decision] = []


class FactorDetail(BaseModel):
    """A factor and the revisions the caller may see, oldest first."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "factor": "cnbrc:ncm811-cam",
                    "provider": "cnbrc",
                    "code": "ncm811-cam",
                    "current_revision": "cnbrc:ncm811-cam@1",
                    "created_at": "2025-03-01T08:00:00Z",
                    "revisions": [
                        {
                            "revision": "cnbrc:ncm811-cam@1",
                            "number": 1,
                            "status": "approved",
                            "status_changed_at": "2025-03-04T10:00:00Z",
                            "submitted_at": "2025-03-01T08:00:00Z",
                            "change_reason": "new_data",
                            "content_hash": "5" * 64,
                            "batch_id": None,
                            "warnings": [],
                            "decisions": [
                                {
                                    "organisation": "tsinghua-lca",
                                    "decision": "approve",
                                    "comment": "consistent with GREET 2023",
                                    "decided_at": "2025-03-04T10:00:00Z",
                                }
                            ],
                            **_EXAMPLE_CONTENT,
                        }
                    ],
                }
            ]
        }
    )

    factor: str
    provider: str
    code: str
    current_revision: str | None = None
    created_at: UtcDatetime | None = None
    revisions: list[RevisionDetail]
