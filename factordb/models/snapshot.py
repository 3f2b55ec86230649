from datetime import datetime

from sqlalchemy import Column, DateTime, Text
from sqlmodel import Field, SQLModel

from factordb.models._time import utcnow


class Snapshot(SQLModel, table=True):
    """An immutable release; `id` is the sha256 of its canonical serialisation."""

    __tablename__ = "snapshot"

    id: str = Field(primary_key=True, max_length=64)
    sequence: int = Field(unique=True)
    label: str | None = Field(default=None, unique=True, max_length=128)
    parent: str | None = Field(default=None, foreign_key="snapshot.id")
    factor_count: int = 0
    tree: str = Field(sa_column=Column(Text, nullable=False))
    published_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True))
    )
    publisher_id: int | None = Field(default=None, foreign_key="principal.id")
    sealed: bool = False
    deprecated: bool = False
    deprecated_reason: str | None = Field(default=None, sa_column=Column(Text))


class SnapshotFactor(SQLModel, table=True):
    """Which revision of each factor a snapshot froze (revision content is immutable too).

    Keyed by the snapshot's `sequence` (as immutable as its ID, and a fifth of its width),
    because a snapshot holds a row per factor: a million rows per publish.
    """

    __tablename__ = "snapshot_factor"

    snapshot_seq: int = Field(foreign_key="snapshot.sequence", primary_key=True)
    factor_pk: int = Field(foreign_key="factor.id", primary_key=True)
    revision_pk: int = Field(foreign_key="factor_revision.id")
