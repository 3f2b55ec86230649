from datetime import datetime

from sqlalchemy import CheckConstraint, Column, DateTime, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from factordb.models._time import utcnow

DECISIONS = ("approve", "reject", "request_changes")


class Review(SQLModel, table=True):
    """One expert's decision on one revision; an expert decides a revision once."""

    __tablename__ = "review"
    __table_args__ = (
        UniqueConstraint("revision_pk", "principal_id", name="uq_review_revision_expert"),
        CheckConstraint(f"decision IN {DECISIONS}", name="ck_review_decision"),
    )

    id: int | None = Field(default=None, primary_key=True)
    revision_pk: int = Field(foreign_key="factor_revision.id", index=True)
    principal_id: int = Field(foreign_key="principal.id", index=True)
    organisation_id: int = Field(foreign_key="organisation.id")
    decision: str = Field(max_length=20)
    comment: str | None = Field(default=None, sa_column=Column(Text))
    decided_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True)))
