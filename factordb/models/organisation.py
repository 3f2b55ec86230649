from datetime import datetime

from sqlalchemy import CheckConstraint, Column, DateTime
from sqlmodel import Field, SQLModel

from factordb.models._time import utcnow

ORG_KINDS = ("provider", "manufacturer", "verifier", "operator")
ROLES = ("admin", "provider", "expert", "accountant", "verifier")


class Organisation(SQLModel, table=True):
    __tablename__ = "organisation"
    __table_args__ = (CheckConstraint(f"kind IN {ORG_KINDS}", name="ck_organisation_kind"),)

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=128, unique=True, index=True)
    name: str = Field(max_length=300)
    kind: str = Field(max_length=20)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True)))


class Principal(SQLModel, table=True):
    """An API key (stored as its sha256) with one role in one organisation."""

    __tablename__ = "principal"
    __table_args__ = (CheckConstraint(f"role IN {ROLES}", name="ck_principal_role"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    role: str = Field(max_length=20)
    name: str = Field(default="", max_length=200)
    key_hash: str = Field(max_length=64, unique=True)
    key_prefix: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True)))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class ExpertSpecialty(SQLModel, table=True):
    __tablename__ = "expert_specialty"

    principal_id: int = Field(foreign_key="principal.id", primary_key=True)
    node: str = Field(foreign_key="classification_node.code", primary_key=True, max_length=200)
