from datetime import date, datetime

from sqlalchemy import (
    DDL,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlmodel import Field, SQLModel

from factordb.models._time import utcnow

REVISION_STATUSES = (
    "submitted",
    "in_review",
    "approved",
    "rejected",
    "changes_requested",
    "withdrawn",
    "superseded",
)
PENDING_STATUSES = ("submitted", "in_review")
CHANGE_REASONS = ("new_data", "correction", "method_change", "unit_fix", "metadata")
DISTRIBUTIONS = ("lognormal", "normal", "triangular", "uniform")
GWP_BASES = ("AR4", "AR5", "AR6")


class IngestBatch(SQLModel, table=True):
    """One uploaded file; the same file from the same provider twice is one batch."""

    __tablename__ = "ingest_batch"
    __table_args__ = (
        UniqueConstraint("organisation_id", "file_sha256", name="uq_batch_org_file"),
        CheckConstraint("status IN ('accepted', 'rejected')", name="ck_batch_status"),
    )

    id: str = Field(primary_key=True, max_length=40)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    # NULL when the operator loads a file for the provider from the command line.
    principal_id: int | None = Field(default=None, foreign_key="principal.id")
    filename: str = Field(max_length=500)
    file_sha256: str = Field(max_length=64)
    source_format: str = Field(default="csv", max_length=20)
    rows: int = 0
    status: str = Field(max_length=20)
    report: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True)))


class Factor(SQLModel, table=True):
    """A stable identity `provider:code`; its content lives in revisions."""

    __tablename__ = "factor"
    __table_args__ = (UniqueConstraint("organisation_id", "code", name="uq_factor_org_code"),)

    id: int | None = Field(default=None, primary_key=True)
    factor_id: str = Field(max_length=260, unique=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    code: str = Field(max_length=128)
    latest_number: int = 0
    current_revision_id: int | None = Field(default=None, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True)))


class FactorRevision(SQLModel, table=True):
    """Immutable content of one revision; only the status columns ever move."""

    __tablename__ = "factor_revision"
    __table_args__ = (
        UniqueConstraint("factor_pk", "number", name="uq_revision_factor_number"),
        CheckConstraint(f"status IN {REVISION_STATUSES}", name="ck_revision_status"),
        CheckConstraint(f"change_reason IN {CHANGE_REASONS}", name="ck_revision_change_reason"),
        CheckConstraint(f"gwp_basis IN {GWP_BASES}", name="ck_revision_gwp_basis"),
        CheckConstraint(
            f"uncertainty IS NULL OR uncertainty IN {DISTRIBUTIONS}", name="ck_revision_dist"
        ),
        CheckConstraint("number >= 1", name="ck_revision_number"),
        Index(
            "ix_revision_pending",
            "submitted_at",
            sqlite_where=text("status IN ('submitted', 'in_review')"),
            postgresql_where=text("status IN ('submitted', 'in_review')"),
        ),
        # a classification subtree is `code = x OR code LIKE 'x.%'`: pattern ops make the
        # LIKE an index range on PostgreSQL whatever the database collation
        Index(
            "ix_factor_revision_classification",
            "classification",
            postgresql_ops={"classification": "varchar_pattern_ops"},
        ),
        # the search's `q` is ILIKE '%text%' on these columns: trigram indexes (pg_trgm)
        *(
            Index(
                f"ix_revision_{column}_trgm",
                column,
                postgresql_using="gin",
                postgresql_ops={column: "gin_trgm_ops"},
            ).ddl_if(dialect="postgresql")
            for column in ("name", "source", "revision_id")
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    revision_id: str = Field(max_length=272, unique=True)
    factor_pk: int = Field(foreign_key="factor.id", index=True)
    number: int
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    name: str = Field(max_length=500)
    classification: str = Field(foreign_key="classification_node.code", max_length=200)
    geography: str = Field(foreign_key="geography.code", index=True, max_length=20)
    reference_year: int
    technology: str | None = Field(default=None, max_length=200)
    value: float
    unit: str = Field(max_length=20)
    dimension: str = Field(max_length=20)
    original_value: float
    original_unit: str = Field(max_length=60)
    gwp_basis: str = Field(default="AR6", max_length=8)
    co2_fossil: float | None = None
    co2_biogenic: float | None = None
    ch4_fossil: float | None = None
    ch4_biogenic: float | None = None
    n2o: float | None = None
    uncertainty: str | None = Field(default=None, max_length=20)
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
    source: str = Field(sa_column=Column(Text, nullable=False))
    source_url: str | None = Field(default=None, sa_column=Column(Text))
    license: str | None = Field(default=None, max_length=200)
    comment: str | None = Field(default=None, sa_column=Column(Text))
    change_reason: str = Field(default="new_data", max_length=20)
    content_hash: str = Field(max_length=64)
    batch_id: str | None = Field(default=None, foreign_key="ingest_batch.id", index=True)
    row_number: int | None = None
    submitted_by: int | None = Field(default=None, foreign_key="principal.id")
    submitted_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True))
    )
    warnings: str = Field(default="[]", sa_column=Column(Text, nullable=False, server_default="[]"))
    status: str = Field(default="submitted", max_length=20, index=True)
    status_changed_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True))
    )
    version: int = 1


event.listen(
    FactorRevision.__table__,
    "before_create",
    DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"),
)
