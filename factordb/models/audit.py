from datetime import datetime

from sqlalchemy import Column, DateTime, Text
from sqlmodel import Field, SQLModel

from factordb.models._time import utcnow


class AuditEvent(SQLModel, table=True):
    """Append-only log; each event carries the hash of the one before it."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True)))
    actor: str = Field(max_length=200)
    action: str = Field(max_length=60, index=True)
    subject: str = Field(max_length=300)
    data: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)
