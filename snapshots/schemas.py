"""Pydantic documents of the snapshot routes; fields follow `schemas/publish.json`,
`snapshot.json`, `snapshot-list.json` and `snapshot-diff.json`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

SNAPSHOT_ID = r"^[0-9a-f]{64}$"


class PublishRequest(BaseModel):
    """Publish what is approved now; `label` must be unique (letters, digits, `._-`)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"label": "2025-Q2"}]}
    )

    label: str | None = Field(default=None, min_length=1, max_length=128)


class PublishResult(BaseModel):
    snapshot_id: str = Field(pattern=SNAPSHOT_ID)
    sequence: int
    label: str | None
    parent: str | None
    factor_count: int
    created: bool = Field(
        description="False when unchanged content returned the existing snapshot."
    )


class SnapshotSummary(BaseModel):
    snapshot_id: str = Field(pattern=SNAPSHOT_ID)
    sequence: int
    label: str | None
    published_at: str = Field(description="UTC, ISO 8601.")
    factor_count: int
    deprecated: bool


class SnapshotList(BaseModel):
    items: list[SnapshotSummary]
    next_cursor: str | None = None


class SnapshotDetail(SnapshotSummary):
    parent: str | None
    publisher: str | None = Field(description="organisation/role#principal; null from the CLI.")
    deprecated_reason: str | None
    sealed: bool


class FrozenFactor(BaseModel):
    """A factor as frozen in a snapshot: the export file's columns plus `number`."""

    snapshot_id: str
    factor: str
    revision: str
    number: int
    provider: str
    code: str
    name: str
    classification: str
    geography: str
    reference_year: int
    technology: str | None = None
    value: float = Field(description="kg CO2e per base unit.")
    unit: str
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
    valid_from: str | None = None
    valid_to: str | None = None
    source: str
    source_url: str | None = None
    license: str | None = None
    change_reason: str


class FrozenFactorPage(BaseModel):
    items: list[FrozenFactor]
    next_cursor: str | None = None


class DiffSummary(BaseModel):
    added: int
    removed: int
    value_change: int
    metadata_change: int
    precision_change: int
    suspected_unit_error: int
    gwp_basis_change: int


class DiffChange(BaseModel):
    factor: str
    type: str
    old_value: float | None
    new_value: float | None
    ratio: float | None = Field(description="new_value / old_value.")
    relative_change: float | None = Field(description="(new_value - old_value) / old_value.")
    fields: list[str]
    change_reason: str | None
    old_revision: str | None = None
    new_revision: str | None = None
    classification: str | None = None


class SnapshotDiff(BaseModel):
    """Each changed factor once, under its most telling type."""

    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from")
    to: str
    summary: DiffSummary
    by_branch: dict[str, dict[str, int]] = Field(
        description="Counts per type under each two-level classification branch."
    )
    changes: list[DiffChange]
