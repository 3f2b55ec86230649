from datetime import datetime

from sqlalchemy import Column, DateTime, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from factordb.models._time import utcnow


class CitationManifest(SQLModel, table=True):
    """An accounting tool's statement that a declaration used revisions of a snapshot.

    Append-only: a new manifest for the same declaration points at the one it supersedes.
    Each declaration's manifests form one chain (one root, each manifest superseded at most
    once), so exactly one of them, the head, is current. `month` is `posted_at`'s UTC
    `YYYY-MM`: the grouping key of the monthly aggregates and the partition key if the
    table is ever partitioned by month.
    """

    __tablename__ = "citation_manifest"
    __table_args__ = (
        UniqueConstraint("organisation_id", "declaration", "content_hash", name="uq_manifest"),
        Index("ix_manifest_declaration", "declaration", "organisation_id"),
        Index("ix_manifest_posted_at", "posted_at"),
        Index(
            "uq_manifest_root",
            "organisation_id",
            "declaration",
            unique=True,
            sqlite_where=text("supersedes_id IS NULL"),
            postgresql_where=text("supersedes_id IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    principal_id: int = Field(foreign_key="principal.id")
    declaration: str = Field(max_length=200)
    snapshot_id: str = Field(foreign_key="snapshot.id", index=True, max_length=64)
    content_hash: str = Field(max_length=64)
    supersedes_id: int | None = Field(default=None, foreign_key="citation_manifest.id", unique=True)
    calculated_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    posted_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    month: str = Field(max_length=7)


class CitationEntry(SQLModel, table=True):
    """One revision a manifest used; the provider is copied here so scoping is one index.

    `(provider_id, factor_pk, manifest_id, revision_pk)` serves a provider's aggregates
    (in factor order), one factor's detail page (newest manifest first) and the impact
    of a new snapshot (which revision was cited) from the index alone;
    `(provider_id, manifest_id, revision_pk)` its newest citations across factors
    (manifest IDs grow with posting time, so this is the provider-by-time index).
    """

    __tablename__ = "citation_entry"
    __table_args__ = (
        Index(
            "ix_citation_provider_factor", "provider_id", "factor_pk", "manifest_id", "revision_pk"
        ),
        Index("ix_citation_provider_manifest", "provider_id", "manifest_id", "revision_pk"),
    )

    manifest_id: int = Field(foreign_key="citation_manifest.id", primary_key=True)
    revision_pk: int = Field(foreign_key="factor_revision.id", primary_key=True)
    factor_pk: int = Field(foreign_key="factor.id")
    provider_id: int = Field(foreign_key="organisation.id")
    share: float | None = None
