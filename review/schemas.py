"""Documents the review service returns; the CLI prints them and the API serves them.

Shapes follow schemas/review-list.json and schemas/review-decisions.json.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

Decision = Literal["approve", "reject", "request_changes"]


class QueueItem(BaseModel):
    revision: str
    factor: str
    provider: str
    name: str
    classification: str
    geography: str
    reference_year: int
    status: str
    proposed_value: float = Field(description="kg CO2e per base activity unit")
    current_value: float | None = Field(
        description="Value of the factor's current approved revision; null for a new factor"
    )
    current_revision: str | None
    unit: str = Field(description="Base activity unit the value is per (kg, kWh, t*km, ...)")
    original_value: float
    original_unit: str
    relative_change: float | None = Field(
        description="(proposed - current) / current; null without a current value or when it is 0"
    )
    approvals: int
    warnings: list[Any]
    submitted_at: datetime


class ReviewQueue(BaseModel):
    items: list[QueueItem]
    next_cursor: str | None = None


class DecisionIn(BaseModel):
    decision: Decision
    comment: str | None = None


class Decided(BaseModel):
    revision: str
    decision: Decision
    status: str = Field(description="The revision's review status after the decision")


class Skipped(BaseModel):
    revision: str
    reason: str
    kind: str = Field(description="Stable key of the reason (not_found, own_organisation, ...)")


class Decisions(BaseModel):
    decided: list[Decided]
    skipped: list[Skipped]


class DecisionRecord(BaseModel):
    organisation: str = Field(description="The deciding expert's organisation")
    decision: Decision
    comment: str | None
    decided_at: datetime


class RevisionDetail(BaseModel):
    revision: str
    factor: str
    number: int
    provider: str
    status: str
    name: str
    classification: str
    geography: str
    reference_year: int
    technology: str | None
    value: float
    unit: str
    original_value: float
    original_unit: str
    gwp_basis: str
    source: str
    change_reason: str
    batch_id: str | None
    current_value: float | None
    current_revision: str | None
    relative_change: float | None
    warnings: list[Any]
    submitted_at: datetime
    status_changed_at: datetime | None
    approvals: int
    quorum: int
    decisions: list[DecisionRecord]


class Submissions(BaseModel):
    items: list[RevisionDetail]
    next_cursor: str | None = None
