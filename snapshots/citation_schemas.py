"""The citation registry's documents (pydantic), shared by the API and the CLI.

JSON Schemas: `schemas/citation-record.json` (a stored manifest),
`schemas/citation-report.json`, `schemas/citation-impact.json`,
`schemas/citation-errata.json`. Times are UTC.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ManifestEntry(BaseModel):
    revision: str = Field(description="Revision ID FACTOR_ID@N.")
    factor: str
    share: float | None = Field(None, description="Share of the declaration's emissions, 0–1.")


class ManifestRecord(BaseModel):
    """One stored manifest: what `POST /citations` answers."""

    manifest: int = Field(description="The manifest's number in the registry.")
    declaration: str
    citing_org: str
    snapshot_id: str = Field(description="Full snapshot ID (the reference sent is resolved).")
    content_hash: str = Field(
        description="sha256 of the snapshot ID, calculation time and (revision, share) pairs."
    )
    calculated_at: datetime | None
    posted_at: datetime
    supersedes: int | None = Field(description="The manifest this one replaced, if any.")
    superseded_by: int | None
    current: bool = Field(description="True for the declaration's latest manifest.")
    created: bool = Field(description="False when the same manifest was already recorded.")
    revisions: list[ManifestEntry]

    def document(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class CitationAggregate(BaseModel):
    factor: str
    revision: str | None = Field(description="The revision the snapshot holds for the factor.")
    snapshot_id: str
    citing_org: str
    month: str = Field(description="UTC month of posting, YYYY-MM.")
    count: int = Field(description="Current manifests (declarations) citing it.")
    latest: datetime = Field(description="When the latest of them was posted.")


class CitationDetail(BaseModel):
    declaration: str
    citing_org: str
    snapshot_id: str
    revision: str
    factor: str
    cited_at: datetime = Field(description="When the manifest was posted.")
    calculated_at: datetime | None
    share: float | None
    manifest: int
    supersedes: int | None
    current: bool = Field(description="False only in `history` views: a superseded manifest.")


class CitationReport(BaseModel):
    """Aggregates and detail rows, paged together by one cursor."""

    view: Literal["provider", "accountant", "verifier", "admin"]
    items: list[CitationAggregate]
    details: list[CitationDetail]
    next_cursor: str | None = None

    def document(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class ImpactFactor(BaseModel):
    factor: str
    old_revision: str
    new_revision: str | None = Field(description="Null when the factor was removed.")
    old_value: float
    new_value: float | None
    unit: str = Field(description="Base activity unit (values are kg CO2e per unit).")
    relative_change: float | None = Field(
        description="(new − old) / |old|; null when removed or when old is 0."
    )
    change: Literal["value_change", "removed"]


class ImpactItem(BaseModel):
    manifest: int
    declaration: str
    citing_org: str
    snapshot_id: str = Field(description="The snapshot the manifest pinned.")
    posted_at: datetime
    changed: int = Field(description="How many of its (visible) cited factors changed.")
    largest_relative_change: float | None = Field(
        description="The relative change of largest magnitude among them (signed)."
    )
    largest_change_factor: str | None
    factors: list[ImpactFactor]


class ImpactReport(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_snapshot: str = Field(alias="from")
    to_snapshot: str = Field(alias="to")
    items: list[ImpactItem]
    next_cursor: str | None = None

    def document(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class ErratumItem(BaseModel):
    factor: str
    revision: str = Field(description="The revision the organisation cited.")
    value: float
    unit: str
    corrected_by: str = Field(description="The newest approved correcting revision.")
    change_reason: Literal["correction", "unit_fix"]
    corrected_value: float
    current_revision: str = Field(description="The factor's newest approved revision.")
    current_value: float
    relative_change: float | None = Field(description="(current − cited) / |cited|.")
    declarations: list[str] = Field(description="Its current declarations citing the revision.")


class ErrataReport(BaseModel):
    items: list[ErratumItem]
    next_cursor: str | None = None

    def document(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
